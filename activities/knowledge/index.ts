import type { KnowledgeActivities } from '../../core/knowledge/activities';
import { embedQuery } from './embeddings';
import {
  embedKnowledgeChunksActivity,
  failKnowledgeIndexingActivity,
  finishKnowledgeIndexingActivity,
  prepareKnowledgeDocumentActivity,
  type IndexingDeps,
} from './index-document';

export type { IndexingDeps } from './index-document';

export function knowledgeActivities(deps: IndexingDeps): KnowledgeActivities {
  return {
    prepareKnowledgeDocument: prepareKnowledgeDocumentActivity(deps),
    embedKnowledgeChunks: embedKnowledgeChunksActivity(deps),
    finishKnowledgeIndexing: finishKnowledgeIndexingActivity(deps),
    failKnowledgeIndexing: failKnowledgeIndexingActivity(deps),
    embedKnowledgeQuery: (input) => embedQuery(deps.orm.em.fork(), deps, { ...input, reference: 'knowledge/search' }),
  };
}
