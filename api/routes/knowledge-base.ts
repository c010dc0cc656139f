import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { knowledgeStages, knowledgeStatuses, type KnowledgeDocument } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import { addDocument, deleteDocument, listDocuments, reindexDocument, searchDocuments, type KnowledgeDeps } from '../../core/knowledge/documents';
import { isIndexable } from '../../core/uploads/file-type';
import { findUpload, saveUpload } from '../../core/uploads/store';
import type { ApiDeps } from '../deps';
import { multipartBody } from '../middleware/multipart';
import { route } from '../route';
import { successSchema } from '../schemas';
import { requiredFile } from './upload';

/**
 * The account's knowledge base, which the AI reply node answers customers from: documents (PDF, DOCX, text,
 * Markdown, HTML, CSV) are chunked and indexed by a workflow, for full-text search always and by meaning too
 * when the account has an AI provider (embeddings). GET lists them with their indexing progress, and with
 * `q` searches them as the AI reply node does.
 */

const uuid = z.string().uuid({ message: 'must be a UUID' });

const documentSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  status: z.enum(knowledgeStatuses).meta({ description: 'queued → indexing → ready, or failed (see error)' }),
  stage: z.enum(knowledgeStages).nullable().meta({ description: 'Of the run in progress: extracting, chunking, embedding, done' }),
  progress: z.number().int().meta({ description: 'Percent of the run in progress (100 once ready)' }),
  searchable: z.boolean().meta({ description: 'Whether its chunks are searched (a failed re-index keeps the previous ones)' }),
  charCount: z.number().int().nullable(),
  chunkCount: z.number().int(),
  chunksEmbedded: z.number().int(),
  embeddingModel: z.string().nullable().meta({ description: 'The model its chunks were embedded with; null: full-text search only' }),
  embeddingError: z.string().nullable().meta({ description: 'Why its chunks have no embeddings although a provider is set' }),
  error: z.string().nullable(),
  uploadId: z.string().uuid().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  indexedAt: z.string().nullable(),
});

const hitSchema = z.object({
  documentId: z.string().uuid(),
  documentName: z.string(),
  chunkId: z.string().uuid(),
  chunkIndex: z.number().int(),
  text: z.string(),
  score: z.number().meta({ description: '0–1, higher is better' }),
});

const listSchema = z.object({
  documents: z.array(documentSchema),
  search: z
    .object({
      query: z.string(),
      mode: z.enum(['hybrid', 'fulltext']).meta({ description: 'hybrid: full text and embeddings; fulltext: words only' }),
      note: z.string().optional(),
      hits: z.array(hitSchema),
    })
    .optional()
    .meta({ description: 'With q: the best matching chunks, best first' }),
});

function present(doc: KnowledgeDocument): z.infer<typeof documentSchema> {
  return {
    id: doc.id,
    name: doc.name,
    contentType: doc.contentType,
    sizeBytes: doc.sizeBytes,
    status: doc.status,
    stage: doc.stage ?? null,
    progress: doc.progress,
    searchable: !!doc.activeRun,
    charCount: doc.charCount ?? null,
    chunkCount: doc.chunkCount,
    chunksEmbedded: doc.chunksEmbedded,
    embeddingModel: doc.embeddingModel ?? null,
    embeddingError: doc.embeddingError ?? null,
    error: doc.error ?? null,
    uploadId: doc.uploadId ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    indexedAt: doc.indexedAt?.toISOString() ?? null,
  };
}

const documentEnvelope = z.object({ success: z.literal(true), document: documentSchema });

export function knowledgeBaseRoutes(deps: ApiDeps) {
  const { uploads } = deps.config;
  const knowledge: KnowledgeDeps = { temporal: deps.temporal, uploads, fallback: deps.config.ai.fallback };
  const tag = 'Knowledge base';
  return [
    route({
      method: 'get',
      path: '/api/knowledge-base',
      tag,
      summary: 'The knowledge base’s documents and their indexing progress; with q, a search',
      auth: 'user',
      query: z.object({
        q: z.string().trim().min(1, 'must not be empty').max(1000).optional().meta({ description: 'A question: the best matching chunks are returned in `search`' }),
        limit: z.coerce.number().int().min(1).max(50).default(5).meta({ description: 'How many chunks a search returns' }),
      }),
      responses: { 200: { description: 'Newest first', schema: listSchema } },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const documents = (await listDocuments(em, principal!.tenantId)).map(present);
        if (!query.q) return { documents };
        const result = await searchDocuments(knowledge, em, { tenantId: principal!.tenantId, query: query.q, limit: query.limit });
        return { documents, search: { query: query.q, ...result } };
      },
    }),
    route({
      method: 'post',
      path: '/api/knowledge-base',
      tag,
      summary: 'Add a document (a file, or an uploaded file’s id), or re-index one',
      description:
        'Exactly one of: `file` (multipart/form-data, at most ' +
        `${uploads.maxBytes} bytes: PDF, DOCX, text, Markdown, HTML or CSV), \`uploadId\` (a file sent to POST /api/upload), or ` +
        '`reindex` (a document id: indexed again, e.g. after an AI provider was added, to get embeddings). The same fields are ' +
        'accepted as JSON. Indexing runs in the background: GET shows its progress.',
      auth: 'user',
      body: z.object({
        file: z.unknown().optional().meta({ type: 'string', format: 'binary', description: 'The document' }),
        uploadId: uuid.optional().meta({ description: 'An uploaded file of the account' }),
        name: z.string().trim().min(1, 'must not be empty').max(255).optional().meta({ description: 'Shown instead of the file name' }),
        reindex: uuid.optional().meta({ description: 'Re-index this document' }),
      }),
      bodyContentType: 'multipart/form-data',
      before: [multipartBody({ fileFields: ['file'], maxFileBytes: uploads.maxBytes })],
      responses: {
        202: { description: 'Added (or re-indexing), indexing in the background', schema: documentEnvelope },
        400: { description: 'Not exactly one of file, uploadId and reindex' },
        404: { description: 'No such upload or document in your account' },
        409: { description: 'That upload is in the knowledge base already' },
        413: { description: 'The file is too large' },
        415: { description: 'The file is not of a type that can be indexed' },
        503: { description: 'The workflow service is unavailable: the document is kept, marked failed; re-index it' },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const files = ctx.state.files as unknown[] | undefined;
        const given = [files?.length ? 'file' : null, body.uploadId ? 'uploadId' : null, body.reindex ? 'reindex' : null].filter(Boolean);
        if (given.length !== 1) throw new AppError('invalid', `Invalid body: give exactly one of file, uploadId and reindex${given.length ? ` (got ${given.join(', ')})` : ''}`);
        const tenantId = principal!.tenantId;
        let document: KnowledgeDocument;
        if (body.reindex) {
          document = await reindexDocument(knowledge, em, tenantId, body.reindex);
        } else {
          const upload = body.uploadId
            ? await findUpload(em, tenantId, body.uploadId)
            : await (async () => {
                const file = requiredFile(ctx.state.files);
                // Only what can be indexed is kept: anything else is refused before it is stored.
                const indexable = { ...uploads, allowedTypes: uploads.allowedTypes.filter(isIndexable) };
                return saveUpload(em, indexable, { tenantId, userId: principal!.userId, filename: file.filename, declaredType: file.declaredType, data: file.data });
              })();
          document = await addDocument(knowledge, em, { upload, name: body.name, userId: principal!.userId });
        }
        ctx.status = 202;
        return { success: true as const, document: present(document) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/knowledge-base',
      tag,
      summary: 'Delete a document, its chunks and its file (id in the query or the body)',
      auth: 'user',
      query: z.object({ id: uuid.optional() }),
      body: z.object({ id: uuid.optional() }).optional(),
      responses: { 200: { description: 'Deleted', schema: successSchema }, 400: { description: 'No id' }, 404: { description: 'No such document in your account' } },
      async handler(ctx, { query, body, principal }) {
        const id = query.id ?? body?.id;
        if (!id) throw new AppError('invalid', 'Invalid query: id: required (in the query, ?id=, or the body)');
        await deleteDocument(knowledge, ctx.state.em, principal!.tenantId, id);
        return { success: true as const, message: 'Document deleted' };
      },
    }),
  ];
}
