import { proxyActivities } from '@temporalio/workflow';
import type { KnowledgeActivities, QueryEmbedding, QueryEmbeddingInput } from '../../core/knowledge/activities';

const { embedKnowledgeQuery } = proxyActivities<KnowledgeActivities>({
  startToCloseTimeout: '15 seconds',
  // Someone is waiting for the answer: a short retry, then the search goes on by full text alone.
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 2 },
});

/** The embedding of a knowledge-base search query (GET /api/knowledge-base?q=), by the tenant's provider. */
export async function embedSearchQuery(input: QueryEmbeddingInput): Promise<QueryEmbedding | null> {
  return embedKnowledgeQuery(input);
}
