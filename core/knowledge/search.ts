import type { EntityManager } from '@mikro-orm/postgresql';
import { queryTerms } from './text';
import { normalise, vectorLiteral } from './vectors';

/** One passage of a tenant's knowledge base that answers a query, best first. */
export interface KnowledgeHit {
  documentId: string;
  documentName: string;
  chunkId: string;
  chunkIndex: number;
  text: string;
  /**
   * 0–1, higher is better. Full text: the share of the query's words (weighted by how rare each is in the
   * tenant's passages) that the passage contains. With embeddings, the mean of that and the cosine similarity
   * of the passage to the query; a passage without an embedding of the query's size keeps its full-text score.
   */
  score: number;
}

/** How much the full-text score counts against the cosine similarity when both exist. */
const fullTextWeight = 0.5;

/** The passages searched: those of each document's active indexing run. */
const liveChunks = `knowledge_chunks c join knowledge_documents d on d.id = c.document_id and c.run_id = d.active_run`;

/**
 * The passages of the tenant's indexed documents that best match `query`: PostgreSQL full-text search (the
 * query's words, or-ed, each weighted by its inverse document frequency among the tenant's passages, as BM25
 * does) and, when `queryEmbedding` is given, cosine similarity to the passages' embeddings. Passages similar
 * in meaning are found even when they share no word with the query. `queryEmbedding` must come from the model
 * the documents were embedded with (activities/knowledge/embeddings.ts `embedQuery` does that); vectors of
 * another size are ignored.
 */
export async function searchKnowledge(
  em: EntityManager,
  input: { tenantId: string; query: string; limit?: number; queryEmbedding?: number[] | null },
): Promise<KnowledgeHit[]> {
  const limit = Math.min(Math.max(Math.trunc(input.limit ?? 5), 1), 50);
  const terms = queryTerms(input.query);
  const embedding = input.queryEmbedding ? normalise(input.queryEmbedding) : null;
  if (terms.length === 0 && !embedding) return [];
  const conn = em.getConnection();

  const weights = terms.length ? await termWeights(em, input.tenantId, terms) : [];
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  const termArray = textArrayLiteral(terms);
  const weightArray = `{${weights.join(',')}}`;
  const vector = embedding ? vectorLiteral(embedding) : null;

  const rows = await conn.execute<
    Array<{ document_id: string; document_name: string; chunk_id: string; chunk_index: number; text: string; score: number }>
  >(
    `with q as (
       select to_tsquery('simple', t.term) as tq, t.weight
         from unnest(?::text[], ?::float8[]) as t(term, weight)
     ),
     matched as (
       select c.id, c.document_id, d.name, c.chunk_index, c.text, c.tsv,
              case when ?::real[] is not null and array_length(c.embedding, 1) = array_length(?::real[], 1)
                   then (select sum(a * b) from unnest(c.embedding, ?::real[]) as v(a, b)) end as cosine
         from ${liveChunks}
        where c.tenant_id = ?
          and (exists (select 1 from q where c.tsv @@ q.tq) or (?::real[] is not null and c.embedding is not null))
     ),
     scored as (
       select m.*,
              coalesce((select sum(q.weight) from q where m.tsv @@ q.tq), 0) / nullif(?::float8, 0) as fts
         from matched m
     )
     select id as chunk_id, document_id, name as document_name, chunk_index, text,
            case when cosine is null then coalesce(fts, 0)
                 else ?::float8 * coalesce(fts, 0) + (1 - ?::float8) * greatest(cosine, 0) end as score
       from scored
      where coalesce(fts, 0) > 0 or cosine > 0
      order by score desc, document_id, chunk_index
      limit ?`,
    [termArray, weightArray, vector, vector, vector, input.tenantId, vector, totalWeight, fullTextWeight, fullTextWeight, limit],
  );
  return rows.map((r) => ({
    documentId: r.document_id,
    documentName: r.document_name,
    chunkId: r.chunk_id,
    chunkIndex: Number(r.chunk_index),
    text: r.text,
    score: Math.round(Number(r.score) * 1e4) / 1e4,
  }));
}

/**
 * Each term's inverse document frequency among the tenant's searched passages (BM25's form, always positive):
 * a word found in every passage says little about which one answers, a rare one says much.
 */
async function termWeights(em: EntityManager, tenantId: string, terms: string[]): Promise<number[]> {
  const rows = await em.getConnection().execute<Array<{ ord: number; df: number; total: number }>>(
    `select t.ord, (select count(*) from ${liveChunks} where c.tenant_id = ? and c.tsv @@ to_tsquery('simple', t.term))::float8 as df,
            (select count(*) from ${liveChunks} where c.tenant_id = ?)::float8 as total
       from unnest(?::text[]) with ordinality as t(term, ord)
      order by t.ord`,
    [tenantId, tenantId, textArrayLiteral(terms)],
  );
  return rows.map((r) => Math.log(1 + (Number(r.total) - Number(r.df) + 0.5) / (Number(r.df) + 0.5)));
}

/** A PostgreSQL text[] literal (each element quoted), bound as one parameter. */
const textArrayLiteral = (items: string[]): string => `{${items.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
