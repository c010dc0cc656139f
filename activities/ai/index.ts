import type { MikroORM } from '@mikro-orm/postgresql';
import type { AiActivities } from '../../core/ai/activities';
import type { FallbackProvider } from '../../core/ai/providers';
import type { Config } from '../../core/config';
import type { SecretBox } from '../../core/crypto/secret-box';
import { outboundFetch } from '../../core/net/outbound-guard';
import { draftFlowActivity } from './generate-flow';
import { answerFromKnowledgeActivity, recordKnowledgeReplyActivity } from './reply';
import { draftTemplateVariantsActivity } from './variants';

/** What AI activities need beyond the database: the installation's provider, and how long one call may take. */
export interface AiDeps {
  fallback: FallbackProvider;
  requestTimeoutMs: number;
  /** fetch for the providers accounts configure themselves: the installation's outbound policy applies. */
  tenantFetch: typeof fetch;
}

export function aiDepsFromConfig(config: Config): AiDeps {
  // One call may take most of the time a generation is given; the workflow's own timeout bounds the whole.
  return {
    fallback: config.ai.fallback,
    requestTimeoutMs: Math.max(10, config.ai.generationTimeoutSec - 5) * 1000,
    tenantFetch: outboundFetch(config.outbound),
  };
}

export function aiActivities(deps: { orm: MikroORM; box: SecretBox; ai: AiDeps }): AiActivities {
  return {
    draftFlow: draftFlowActivity(deps),
    draftTemplateVariants: draftTemplateVariantsActivity(deps),
    answerFromKnowledge: answerFromKnowledgeActivity(deps),
    recordKnowledgeReply: recordKnowledgeReplyActivity(deps),
  };
}
