import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { FinishResult, IndexRunInput, KnowledgeActivities } from '../../core/knowledge/activities';

/** Chunks per embeddings call: well within providers' limits on inputs and tokens per request. */
export const embeddingBatchSize = 64;

const { prepareKnowledgeDocument, finishKnowledgeIndexing, failKnowledgeIndexing } = proxyActivities<KnowledgeActivities>({
  // A large PDF takes a while to read; an unreadable one fails at once (non-retryable).
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

const { embedKnowledgeChunks } = proxyActivities<KnowledgeActivities>({
  startToCloseTimeout: '2 minutes',
  // Network errors, 429 and 5xx are retried; a refused key or request is not (the activity says which).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});

const messageOf = (err: unknown): string =>
  err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err);

/**
 * Indexes one document of a knowledge base (workflow id `knowledge/{tenantId}/{documentId}`): its text is
 * read and chunked into full-text-indexed passages, then embedded batch by batch when the tenant has an AI
 * provider, each step recording progress on the document. Embedding failures leave the document searchable
 * by full text; any other failure marks it failed, keeping what an earlier run indexed searchable. The run
 * stops quietly when the document is deleted or re-indexed meanwhile.
 */
export async function indexKnowledgeDocument(input: IndexRunInput): Promise<FinishResult> {
  try {
    const prepared = await prepareKnowledgeDocument(input);
    if (prepared.status === 'superseded') return prepared;
    let embeddingModel: string | null = null;
    let embeddingError: string | null = null;
    if (prepared.embeddingModel) {
      try {
        for (let fromIndex = 0; fromIndex < prepared.chunkCount; fromIndex += embeddingBatchSize) {
          const batch = await embedKnowledgeChunks({ ...input, fromIndex, count: embeddingBatchSize });
          if (batch.status === 'superseded') return batch;
          embeddingModel = batch.model;
        }
      } catch (err) {
        embeddingModel = null;
        embeddingError = messageOf(err);
      }
    }
    return await finishKnowledgeIndexing({ ...input, embeddingModel, embeddingError });
  } catch (err) {
    const error = messageOf(err);
    await failKnowledgeIndexing({ ...input, error });
    throw ApplicationFailure.nonRetryable(error, 'indexing_failed');
  }
}
