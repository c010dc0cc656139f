import type { MikroORM } from '@mikro-orm/postgresql';
import { upsertConversation } from '../../core/conversations/store';
import type { JourneyKey, JourneyStatus } from '../../core/journey/types';

/** Mirrors where a journey stands onto its conversation row, for the inbox; idempotent (a plain overwrite). */
export function recordJourneyActivity(deps: { orm: MikroORM }) {
  return async function recordJourney(input: {
    key: JourneyKey;
    workflowId: string;
    flowId?: string;
    version?: number;
    currentNode?: string;
    status: JourneyStatus;
  }): Promise<void> {
    const em = deps.orm.em.fork();
    const conversation = await upsertConversation(em, input.key);
    await em
      .getConnection()
      // A journey that pauses on its own (a hand-off node) puts the conversation in the agents' queue.
      .execute(
        `update conversations set flow_id = coalesce(?, flow_id), flow_version = coalesce(?, flow_version), current_node = ?,
           status = case when ? = 'paused' and status = 'bot' then 'agent' else status end, updated_at = now() where id = ?`,
        [input.flowId ?? null, input.version ?? null, input.currentNode ?? null, input.status, conversation.id],
      );
  };
}
