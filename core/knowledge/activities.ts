/** The knowledge-base activities the indexing workflows call; implemented in activities/knowledge/. Types only. */

export interface IndexRunInput {
  tenantId: string;
  documentId: string;
  /** This indexing run: its chunks carry it, and every step checks it is still the document's current run. */
  runId: string;
}

/** The document was deleted, or a newer re-index took over: the run stops and leaves nothing behind. */
export interface Superseded {
  status: 'superseded';
}

export type PreparedDocument =
  | Superseded
  | {
      status: 'chunked';
      chunkCount: number;
      /** The model to embed with; null: the tenant has no AI provider, full-text search only. */
      embeddingModel: string | null;
    };

export interface EmbedBatchInput extends IndexRunInput {
  fromIndex: number;
  count: number;
}

export type EmbeddedBatch = Superseded | { status: 'embedded'; model: string };

export interface FinishInput extends IndexRunInput {
  /** The model every chunk was embedded with; null when none was. */
  embeddingModel: string | null;
  /** Why embedding failed; the document is then searched by full text alone. */
  embeddingError: string | null;
}

export type FinishResult = Superseded | { status: 'ready'; chunkCount: number };

export interface FailInput extends IndexRunInput {
  error: string;
}

export interface QueryEmbeddingInput {
  tenantId: string;
  query: string;
}

export interface QueryEmbedding {
  vector: number[];
  model: string;
}

/** Failure types the workflows and the API tell apart (ApplicationFailure.type). */
export const knowledgeFailureTypes = {
  /** The file cannot be read as a document of its type (a PDF without text, a broken DOCX). */
  unreadable: 'unreadable_document',
  /** The stored file is gone. */
  fileMissing: 'file_missing',
} as const;

export interface KnowledgeActivities {
  /** Reads the document's text, splits it into chunks and writes them (full-text indexed) for this run. */
  prepareKnowledgeDocument(input: IndexRunInput): Promise<PreparedDocument>;
  /** Embeds the run's chunks [fromIndex, fromIndex + count) that have no embedding yet; usage is recorded. */
  embedKnowledgeChunks(input: EmbedBatchInput): Promise<EmbeddedBatch>;
  /** Makes this run's chunks the ones searched, and drops the previous run's. */
  finishKnowledgeIndexing(input: FinishInput): Promise<FinishResult>;
  /** Records why the run failed and drops its chunks; the previous run's stay searchable. */
  failKnowledgeIndexing(input: FailInput): Promise<void>;
  /** A search query's embedding by the tenant's provider, or null when it has none. Usage is recorded. */
  embedKnowledgeQuery(input: QueryEmbeddingInput): Promise<QueryEmbedding | null>;
}
