import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { embedSearchQuery } from '../../workflows/knowledge/embed-query';
import type { indexKnowledgeDocument } from '../../workflows/knowledge/index-document';
import { hasProvider, type FallbackProvider } from '../ai/providers';
import { KnowledgeDocument, Upload } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { searchAttributes as sa } from '../temporal/search-attributes';
import type { TemporalHandle } from '../temporal/connect';
import { deleteUpload, type UploadLimits } from '../uploads/store';
import { isIndexable } from '../uploads/file-type';
import { searchKnowledge, type KnowledgeHit } from './search';

/**
 * The knowledge base below HTTP: documents are added from uploaded files and indexed by the
 * `indexKnowledgeDocument` workflow (one per document, `knowledge/{tenantId}/{documentId}`), re-indexed by a
 * new run that replaces the running one, and deleted with their chunks and file.
 */

export interface KnowledgeDeps {
  temporal: TemporalHandle;
  uploads: UploadLimits;
  fallback: FallbackProvider;
}

export const knowledgeWorkflowId = (tenantId: string, documentId: string): string => `knowledge/${tenantId}/${documentId}`;

const START_TIMEOUT_MS = 5000;
/** A search waits this long for its query's embedding, then goes on by full text alone. */
const QUERY_EMBEDDING_TIMEOUT_MS = 20_000;

export async function findDocument(em: EntityManager, tenantId: string, id: string): Promise<KnowledgeDocument> {
  const doc = await em.findOne(KnowledgeDocument, { id, tenantId });
  if (!doc) throw notFound('Document');
  return doc;
}

export function listDocuments(em: EntityManager, tenantId: string): Promise<KnowledgeDocument[]> {
  return em.find(KnowledgeDocument, { tenantId }, { orderBy: { createdAt: 'desc', id: 'asc' } });
}

/** Adds an uploaded file of the tenant to the knowledge base and starts indexing it. */
export async function addDocument(deps: KnowledgeDeps, em: EntityManager, input: { upload: Upload; name?: string; userId: string | null }): Promise<KnowledgeDocument> {
  const { upload } = input;
  if (!isIndexable(upload.contentType)) {
    throw new AppError('unsupported_media', `${upload.contentType} files cannot be indexed: add a PDF, DOCX, text, Markdown, HTML or CSV file`);
  }
  const existing = await em.findOne(KnowledgeDocument, { uploadId: upload.id });
  if (existing) throw new AppError('conflict', `This file is in the knowledge base already, as document ${existing.id}`);
  const doc: KnowledgeDocument = Object.assign(new KnowledgeDocument(), {
    id: newId(),
    tenantId: upload.tenantId,
    uploadId: upload.id,
    name: (input.name ?? upload.filename).slice(0, 255),
    contentType: upload.contentType,
    sizeBytes: upload.sizeBytes,
    status: 'queued' as const,
    progress: 0,
    chunkCount: 0,
    chunksEmbedded: 0,
    currentRun: newId(),
    createdBy: input.userId,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  try {
    await em.insert(KnowledgeDocument, doc);
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new AppError('conflict', 'This file is in the knowledge base already');
    throw err;
  }
  await startIndexing(deps, em, doc);
  return doc;
}

/** Indexes the document again (a new run; a run in progress is stopped), e.g. once an AI provider is set. */
export async function reindexDocument(deps: KnowledgeDeps, em: EntityManager, tenantId: string, id: string): Promise<KnowledgeDocument> {
  const doc = await findDocument(em, tenantId, id);
  if (!doc.uploadId) throw new AppError('conflict', 'The document’s file is gone: add it again to index it');
  Object.assign(doc, { status: 'queued', stage: null, progress: 0, error: null, currentRun: newId() });
  await em.flush();
  await startIndexing(deps, em, doc);
  return doc;
}

async function startIndexing(deps: KnowledgeDeps, em: EntityManager, doc: KnowledgeDocument): Promise<void> {
  const { temporal } = deps;
  try {
    await temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      temporal.client.workflow.start<typeof indexKnowledgeDocument>('indexKnowledgeDocument', {
        workflowId: knowledgeWorkflowId(doc.tenantId, doc.id),
        taskQueue: temporal.taskQueue,
        args: [{ tenantId: doc.tenantId, documentId: doc.id, runId: doc.currentRun! }],
        // A re-index replaces a run still going: its steps see they are no longer current and stop.
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
        typedSearchAttributes: [{ key: sa.TenantId, value: doc.tenantId }],
      }),
    );
  } catch {
    const error = 'Indexing could not start: the workflow service is unavailable; re-index the document shortly';
    await em.nativeUpdate(KnowledgeDocument, { id: doc.id, currentRun: doc.currentRun }, { status: 'failed', error, currentRun: null, updatedAt: new Date() });
    throw new AppError('unavailable', error);
  }
}

/** Deletes the document, its chunks (by cascade) and its file, and stops its indexing if it is running. */
export async function deleteDocument(deps: KnowledgeDeps, em: EntityManager, tenantId: string, id: string): Promise<void> {
  const doc = await findDocument(em, tenantId, id);
  try {
    await deps.temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      deps.temporal.client.workflow.getHandle(knowledgeWorkflowId(tenantId, id)).terminate('document deleted'),
    );
  } catch {
    // Usually the run has finished and cannot be terminated. One still going (Temporal unreachable just now)
    // stops at its next step anyway, when it finds the document gone.
  }
  await em.nativeDelete(KnowledgeDocument, { id: doc.id });
  const upload = doc.uploadId ? await em.findOne(Upload, { id: doc.uploadId }) : null;
  if (upload) await deleteUpload(em, deps.uploads, upload);
}

export interface SearchResult {
  mode: 'hybrid' | 'fulltext';
  /** Why the search is full text only although embeddings exist (the provider failed or timed out). */
  note?: string;
  hits: KnowledgeHit[];
}

/**
 * Searches the tenant's knowledge base as the AI reply node does: by full text, and by meaning as well when
 * some documents have embeddings and the tenant has a provider to embed the query with.
 */
export async function searchDocuments(deps: KnowledgeDeps, em: EntityManager, input: { tenantId: string; query: string; limit: number }): Promise<SearchResult> {
  const embedded = await em.count(KnowledgeDocument, { tenantId: input.tenantId, embeddingModel: { $ne: null }, activeRun: { $ne: null } });
  if (embedded === 0 || !(await hasProvider(em, deps.fallback, input.tenantId))) {
    return { mode: 'fulltext', hits: await searchKnowledge(em, input) };
  }
  let queryEmbedding: number[] | null = null;
  let note: string | undefined;
  try {
    const { temporal } = deps;
    const result = await temporal.connection.withDeadline(Date.now() + QUERY_EMBEDDING_TIMEOUT_MS, () =>
      temporal.client.workflow.execute<typeof embedSearchQuery>('embedSearchQuery', {
        workflowId: `knowledge-query/${input.tenantId}/${newId()}`,
        taskQueue: temporal.taskQueue,
        args: [{ tenantId: input.tenantId, query: input.query }],
        workflowExecutionTimeout: `${QUERY_EMBEDDING_TIMEOUT_MS / 1000} seconds`,
        typedSearchAttributes: [{ key: sa.TenantId, value: input.tenantId }],
      }),
    );
    queryEmbedding = result?.vector ?? null;
  } catch (err) {
    note = `Searched by full text only: the query could not be embedded (${deepestMessage(err).slice(0, 300)})`;
  }
  const hits = await searchKnowledge(em, { ...input, queryEmbedding });
  return queryEmbedding ? { mode: 'hybrid', hits } : { mode: 'fulltext', ...(note ? { note } : {}), hits };
}

/** A workflow's failure wraps the activity's, which wraps the provider's: the innermost says what happened. */
function deepestMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e.cause === 'object' && e.cause !== null) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
