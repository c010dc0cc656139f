import { EntitySchema, OptionalProps } from '@mikro-orm/core';

/**
 * A file a user uploaded. The bytes are in the upload store (core/uploads/store.ts) under `storageKey`; the
 * content type is the one sniffed from the bytes, never the client's word.
 */
export class Upload {
  [OptionalProps]?: 'userId' | 'createdAt';
  id!: string;
  tenantId!: string;
  userId?: string | null;
  filename!: string;
  contentType!: string;
  sizeBytes!: number;
  sha256!: string;
  storageKey!: string;
  createdAt: Date = new Date();
}

export const UploadSchema = new EntitySchema<Upload>({
  class: Upload,
  tableName: 'uploads',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    userId: { type: 'uuid', nullable: true },
    filename: { type: 'text' },
    contentType: { type: 'string' },
    sizeBytes: { type: 'bigint', runtimeType: 'number' },
    sha256: { type: 'string' },
    storageKey: { type: 'text' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});

export const knowledgeStatuses = ['queued', 'indexing', 'ready', 'failed'] as const;
export type KnowledgeStatus = (typeof knowledgeStatuses)[number];

/** Where an indexing run is: reading the file's text, writing its chunks, embedding them. */
export const knowledgeStages = ['extracting', 'chunking', 'embedding', 'done'] as const;
export type KnowledgeStage = (typeof knowledgeStages)[number];

/**
 * A document of a tenant's knowledge base and its indexing state. Its passages are `knowledge_chunks` rows
 * (raw SQL in core/knowledge: a tsvector and a real[] column); only those of `activeRun` are searched.
 */
export class KnowledgeDocument {
  [OptionalProps]?:
    | 'uploadId'
    | 'status'
    | 'stage'
    | 'progress'
    | 'charCount'
    | 'chunkCount'
    | 'chunksEmbedded'
    | 'embeddingModel'
    | 'embeddingError'
    | 'error'
    | 'currentRun'
    | 'activeRun'
    | 'createdBy'
    | 'createdAt'
    | 'updatedAt'
    | 'indexedAt';
  id!: string;
  tenantId!: string;
  /** Null once the file is gone (its chunks stay searchable). */
  uploadId?: string | null;
  name!: string;
  contentType!: string;
  sizeBytes!: number;
  status: KnowledgeStatus = 'queued';
  stage?: KnowledgeStage | null;
  /** 0–100, of the current run. */
  progress = 0;
  charCount?: number | null;
  chunkCount = 0;
  chunksEmbedded = 0;
  /** The model the searched chunks were embedded with; null: full-text search only. */
  embeddingModel?: string | null;
  /** Why the chunks have no embeddings although a provider is configured. */
  embeddingError?: string | null;
  error?: string | null;
  currentRun?: string | null;
  activeRun?: string | null;
  createdBy?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
  indexedAt?: Date | null;
}

export const KnowledgeDocumentSchema = new EntitySchema<KnowledgeDocument>({
  class: KnowledgeDocument,
  tableName: 'knowledge_documents',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    uploadId: { type: 'uuid', nullable: true },
    name: { type: 'text' },
    contentType: { type: 'string' },
    sizeBytes: { type: 'bigint', runtimeType: 'number' },
    status: { type: 'string' },
    stage: { type: 'string', nullable: true },
    progress: { type: 'integer' },
    charCount: { type: 'integer', nullable: true },
    chunkCount: { type: 'integer' },
    chunksEmbedded: { type: 'integer' },
    embeddingModel: { type: 'text', nullable: true },
    embeddingError: { type: 'text', nullable: true },
    error: { type: 'text', nullable: true },
    currentRun: { type: 'uuid', nullable: true },
    activeRun: { type: 'uuid', nullable: true },
    createdBy: { type: 'uuid', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
    indexedAt: { type: 'Date', nullable: true },
  },
});
