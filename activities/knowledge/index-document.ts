import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { resolveProvider } from '../../core/ai/providers';
import { KnowledgeDocument, Upload } from '../../core/db/entities';
import { sqlOf } from '../../core/db/sql';
import {
  knowledgeFailureTypes,
  type EmbedBatchInput,
  type EmbeddedBatch,
  type FailInput,
  type FinishInput,
  type FinishResult,
  type IndexRunInput,
  type PreparedDocument,
} from '../../core/knowledge/activities';
import { chunkText } from '../../core/knowledge/chunking';
import { extractDocumentText, UnreadableDocument } from '../../core/knowledge/extract';
import { searchableText } from '../../core/knowledge/text';
import { vectorLiteral } from '../../core/knowledge/vectors';
import { newId } from '../../core/ids';
import { readUploadBytes } from '../../core/uploads/store';
import { embedTexts, type EmbeddingDeps } from './embeddings';

export interface IndexingDeps extends EmbeddingDeps {
  orm: MikroORM;
  uploadsDir: string;
}

/** Progress (percent) once the text is read, once the chunks are written, and the share left to embedding. */
const progressAt = { extracting: 5, chunked: 30 } as const;
const rowsPerInsert = 200;
const superseded = { status: 'superseded' } as const;

/**
 * The document if this run is still its current one, locked for the rest of the transaction when `lock`; null
 * when it was deleted or a newer run took over.
 */
async function currentDocument(em: EntityManager, input: IndexRunInput, lock = false): Promise<KnowledgeDocument | null> {
  const [row] = await sqlOf(em).execute<Array<{ id: string }>>(
      `select id from knowledge_documents where id = ? and tenant_id = ? and current_run = ?${lock ? ' for update' : ''}`,
      [input.documentId, input.tenantId, input.runId],
    );
  return row ? em.findOne(KnowledgeDocument, { id: row.id }, { refresh: true }) : null;
}

async function setProgress(em: EntityManager, input: IndexRunInput, changes: Partial<KnowledgeDocument>): Promise<void> {
  await em.nativeUpdate(KnowledgeDocument, { id: input.documentId, currentRun: input.runId }, { ...changes, updatedAt: new Date() });
}

/**
 * Reads the file's text, chunks it and writes the chunks of this run with their full-text vectors. Idempotent:
 * a retry first removes what an earlier attempt of the same run wrote.
 */
export function prepareKnowledgeDocumentActivity(deps: IndexingDeps) {
  return async function prepareKnowledgeDocument(input: IndexRunInput): Promise<PreparedDocument> {
    const em = deps.orm.em.fork();
    const doc = await currentDocument(em, input);
    if (!doc) return superseded;
    await setProgress(em, input, { status: 'indexing', stage: 'extracting', progress: progressAt.extracting, error: null });

    const upload = doc.uploadId ? await em.findOne(Upload, { id: doc.uploadId }) : null;
    if (!upload) throw ApplicationFailure.nonRetryable('the document’s file is gone: add the document again', knowledgeFailureTypes.fileMissing);
    let data: Buffer;
    try {
      data = await readUploadBytes({ dir: deps.uploadsDir }, upload);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw ApplicationFailure.nonRetryable('the document’s file is missing from the upload store: add the document again', knowledgeFailureTypes.fileMissing);
      }
      throw err;
    }
    let extracted;
    try {
      extracted = await extractDocumentText(data, upload.contentType);
    } catch (err) {
      if (err instanceof UnreadableDocument) throw ApplicationFailure.nonRetryable(err.message, knowledgeFailureTypes.unreadable);
      throw err;
    }
    await setProgress(em, input, { stage: 'chunking' });
    const chunks = chunkText(extracted.text);

    const written = await em.transactional(async (tem) => {
      if (!(await currentDocument(tem, input, true))) return false;
      const conn = sqlOf(tem);
      await conn.execute(`delete from knowledge_chunks where document_id = ? and run_id = ?`, [input.documentId, input.runId]);
      for (let from = 0; from < chunks.length; from += rowsPerInsert) {
        const slice = chunks.slice(from, from + rowsPerInsert);
        await conn.execute(
          `insert into knowledge_chunks (id, tenant_id, document_id, run_id, chunk_index, text, tsv) values ${slice.map(() => `(?, ?, ?, ?, ?, ?, to_tsvector('simple', ?))`).join(', ')}`,
          slice.flatMap((text, i) => [newId(), input.tenantId, input.documentId, input.runId, from + i, text, searchableText(text)]),
        );
      }
      await tem.nativeUpdate(
        KnowledgeDocument,
        { id: input.documentId },
        { stage: 'embedding', progress: progressAt.chunked, charCount: extracted.text.length, chunkCount: chunks.length, chunksEmbedded: 0, updatedAt: new Date() },
      );
      return true;
    });
    if (!written) return superseded;

    const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'embeddings');
    return { status: 'chunked', chunkCount: chunks.length, embeddingModel: provider?.model ?? null };
  };
}

/**
 * Embeds the run's chunks in [fromIndex, fromIndex + count) that have none yet. Idempotent in effect; a retry
 * after the provider answered calls (and bills) it again, and that call is recorded too.
 */
export function embedKnowledgeChunksActivity(deps: IndexingDeps) {
  return async function embedKnowledgeChunks(input: EmbedBatchInput): Promise<EmbeddedBatch> {
    const em = deps.orm.em.fork();
    const doc = await currentDocument(em, input);
    if (!doc) return superseded;
    const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'embeddings');
    if (!provider) throw ApplicationFailure.nonRetryable('the AI provider was removed while the document was being indexed', 'ai_not_configured');

    const conn = em.getConnection();
    const pending = await conn.execute<Array<{ id: string; text: string }>>(
      `select id, text from knowledge_chunks
        where document_id = ? and run_id = ? and chunk_index >= ? and chunk_index < ? and embedding is null
        order by chunk_index`,
      [input.documentId, input.runId, input.fromIndex, input.fromIndex + input.count],
    );
    if (pending.length > 0) {
      const vectors = await embedTexts(em, deps, provider, { tenantId: input.tenantId, texts: pending.map((c) => c.text), reference: `knowledge/${input.documentId}` });
      await em.transactional(async (tem) => {
        const tconn = sqlOf(tem);
        for (const [i, chunk] of pending.entries()) {
          await tconn.execute(`update knowledge_chunks set embedding = ?::real[] where id = ?`, [vectorLiteral(vectors[i]), chunk.id]);
        }
      });
    }
    const [{ embedded }] = await conn.execute<Array<{ embedded: number }>>(
      `select count(*)::int as embedded from knowledge_chunks where document_id = ? and run_id = ? and embedding is not null`,
      [input.documentId, input.runId],
    );
    const share = doc.chunkCount > 0 ? embedded / doc.chunkCount : 1;
    await setProgress(em, input, { chunksEmbedded: embedded, progress: Math.min(99, progressAt.chunked + Math.floor((100 - progressAt.chunked) * share)) });
    return { status: 'embedded', model: provider.model };
  };
}

/** Swaps the searched chunks to this run's, in one transaction, and drops every other run's. */
export function finishKnowledgeIndexingActivity(deps: IndexingDeps) {
  return async function finishKnowledgeIndexing(input: FinishInput): Promise<FinishResult> {
    return deps.orm.em.fork().transactional(async (em) => {
      const conn = sqlOf(em);
      const doc = await currentDocument(em, input, true);
      if (!doc) {
        await conn.execute(`delete from knowledge_chunks where document_id = ? and run_id = ?`, [input.documentId, input.runId]);
        return superseded;
      }
      // Half-embedded documents would rank unevenly: without a model for all of them, none keeps a vector.
      if (!input.embeddingModel) await conn.execute(`update knowledge_chunks set embedding = null where document_id = ? and run_id = ?`, [input.documentId, input.runId]);
      await conn.execute(`delete from knowledge_chunks where document_id = ? and run_id <> ?`, [input.documentId, input.runId]);
      await em.nativeUpdate(
        KnowledgeDocument,
        { id: input.documentId },
        {
          status: 'ready',
          stage: 'done',
          progress: 100,
          activeRun: input.runId,
          currentRun: null,
          embeddingModel: input.embeddingModel,
          embeddingError: input.embeddingError,
          chunksEmbedded: input.embeddingModel ? doc.chunkCount : 0,
          error: null,
          indexedAt: new Date(),
          updatedAt: new Date(),
        },
      );
      return { status: 'ready', chunkCount: doc.chunkCount };
    });
  };
}

/** Marks the run failed and drops its chunks; those of an earlier successful run stay searchable. */
export function failKnowledgeIndexingActivity(deps: IndexingDeps) {
  return async function failKnowledgeIndexing(input: FailInput): Promise<void> {
    await deps.orm.em.fork().transactional(async (em) => {
      const doc = await currentDocument(em, input, true);
      if (!doc) return;
      // This run's chunks, and those of a run it replaced mid-way: only the searched ones stay.
      await sqlOf(em).execute(`delete from knowledge_chunks where document_id = ? and run_id is distinct from ?`, [input.documentId, doc.activeRun ?? null]);
      await em.nativeUpdate(
        KnowledgeDocument,
        { id: input.documentId },
        { status: 'failed', stage: null, error: input.error.slice(0, 2000), currentRun: null, updatedAt: new Date() },
      );
    });
  };
}
