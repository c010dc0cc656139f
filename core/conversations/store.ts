import type { EntityManager } from '@mikro-orm/postgresql';
import type { JourneyKey } from '../journey/types';
import { journeyWorkflowId } from '../temporal/workflow-ids';
import { newId } from '../ids';

/**
 * Conversation rows are keyed by (tenant, channel, line, contact), the same key as the journey workflow.
 * Upserts, because the dispatcher, the journey and an agent may all be first to touch a conversation.
 */
export async function upsertConversation(
  em: EntityManager,
  key: JourneyKey,
  changes: { customerName?: string | null } = {},
): Promise<{ id: string; lastCustomerMessageAt: Date | null; status: string; replyLineId: string | null }> {
  const rows = await em.getConnection().execute<Array<{ id: string; last_customer_message_at: Date | null; status: string; reply_line_id: string | null }>>(
    `insert into conversations (id, tenant_id, channel, line_id, contact, customer_name, journey_workflow_id)
     values (?, ?, ?, ?, ?, ?, ?)
     on conflict (tenant_id, channel, line_id, contact) do update
       set customer_name = coalesce(excluded.customer_name, conversations.customer_name)
     returning id, last_customer_message_at, status, reply_line_id`,
    [newId(), key.tenantId, key.channel, key.lineId, key.contact, changes.customerName ?? null, journeyWorkflowId(key)],
  );
  return { id: rows[0].id, lastCustomerMessageAt: rows[0].last_customer_message_at, status: rows[0].status, replyLineId: rows[0].reply_line_id };
}

/** The 24-hour customer-service window: free-form messages only within a day of the customer's last one. */
export const WINDOW_MS = 24 * 3600 * 1000;
export const windowOpen = (lastCustomerMessageAt: Date | null, now = Date.now()): boolean =>
  lastCustomerMessageAt !== null && now - new Date(lastCustomerMessageAt).getTime() < WINDOW_MS;
