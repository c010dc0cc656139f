import type { MikroORM } from '@mikro-orm/postgresql';
import { newId } from '../../core/ids';
import type { JourneyKey, JourneyStatus } from '../../core/journey/types';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';

/**
 * Mirrors where a journey stands onto its conversation row, for the inbox; idempotent (a plain overwrite).
 * One statement, creating the row if the journey is first to touch it: it runs inside the journey's workflow
 * task (a local activity), once per step the customer waits on.
 */
export function recordJourneyActivity(deps: { orm: MikroORM }) {
  return async function recordJourney(input: {
    key: JourneyKey;
    workflowId: string;
    flowId?: string;
    version?: number;
    currentNode?: string;
    status: JourneyStatus;
  }): Promise<void> {
    const { key } = input;
    // A journey that pauses on its own (a hand-off node) puts the conversation in the agents' queue.
    await deps.orm.em.getConnection().execute(
      `insert into conversations as c (id, tenant_id, channel, line_id, contact, journey_workflow_id, flow_id, flow_version, current_node, status)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, case when ? = 'paused' then 'agent' else 'bot' end)
       on conflict (tenant_id, channel, line_id, contact) do update
         set flow_id = coalesce(excluded.flow_id, c.flow_id), flow_version = coalesce(excluded.flow_version, c.flow_version),
           current_node = excluded.current_node, status = case when excluded.status = 'agent' and c.status = 'bot' then 'agent' else c.status end,
           updated_at = now()`,
      [newId(), key.tenantId, key.channel, key.lineId, key.contact, journeyWorkflowId(key), input.flowId ?? null, input.version ?? null, input.currentNode ?? null, input.status],
    );
  };
}
