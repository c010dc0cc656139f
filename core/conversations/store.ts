import type { EntityManager } from '@mikro-orm/postgresql';
import type { JourneyKey } from '../journey/types';
import { journeyWorkflowId } from '../temporal/workflow-ids';
import { insertOrSelect, sqlOf } from '../db/sql';
import { newId } from '../ids';

/**
 * Conversation rows are keyed by (tenant, channel, line, contact), the same key as the journey workflow.
 * Upserts, because the dispatcher, the journey and an agent may all be first to touch a conversation.
 */
type ConversationRow = { id: string; last_customer_message_at: Date | null; status: string; reply_line_id: string | null };
export type ConversationRef = { id: string; lastCustomerMessageAt: Date | null; status: string; replyLineId: string | null };
const refOf = (row: ConversationRow): ConversationRef => ({
  id: row.id,
  lastCustomerMessageAt: row.last_customer_message_at,
  status: row.status,
  replyLineId: row.reply_line_id,
});

const conversationColumns = 'id, last_customer_message_at, status, reply_line_id';

export async function upsertConversation(em: EntityManager, key: JourneyKey, changes: { customerName?: string | null } = {}): Promise<ConversationRef> {
  const conn = em.getConnection();
  const values = [newId(), key.tenantId, key.channel, key.lineId, key.contact, changes.customerName ?? null, journeyWorkflowId(key)];
  const insert = `insert into conversations (id, tenant_id, channel, line_id, contact, customer_name, journey_workflow_id) values (?, ?, ?, ?, ?, ?, ?)`;
  if (changes.customerName != null) {
    const [row] = await conn.execute<ConversationRow[]>(
      `${insert} on conflict (tenant_id, channel, line_id, contact) do update
         set customer_name = coalesce(excluded.customer_name, conversations.customer_name)
       returning ${conversationColumns}`,
      values,
    );
    return refOf(row);
  }
  // Nothing to change: an existing row is read, not written again (an upsert would write and commit a new version
  // of it every time).
  const row = await insertOrSelect<ConversationRow>(sqlOf(em), {
    insert: `${insert} on conflict (tenant_id, channel, line_id, contact) do nothing`,
    insertParams: values,
    returning: conversationColumns,
    select: `select ${conversationColumns} from conversations where tenant_id = ? and channel = ? and line_id = ? and contact = ?`,
    selectParams: [key.tenantId, key.channel, key.lineId, key.contact],
  });
  return refOf(row!);
}

/** A customer's message, as the inbound handler records it on the conversation it belongs to. */
export interface CustomerMessage {
  providerMessageId: string;
  type: string;
  text: string | null;
  /** The message's content as the channel gave it (stored as the payload). */
  content: unknown;
  customerName: string | null;
  /** When the customer sent it (the channel's timestamp): it opens the 24-hour window. */
  sentAt: string;
  /**
   * When it reached us, to the millisecond: the message row's time. Meta's timestamp has whole seconds only,
   * and a reply must not sort before the message of ours it answers.
   */
  arrivedAt: Date;
  /** The line it arrived on, when that is not the conversation's own (a reply to a fallback send). */
  arrivedOnOtherLine: string | null;
}

/**
 * Records a customer's message (once, by provider id) and brings its conversation up to date, creating it when
 * needed, in one statement. Meta opens the 24-hour window for the number the customer wrote to: the
 * conversation's next messages go out from the line the message arrived on (reply_line_id, when it is not the
 * conversation's own) as long as it is the customer's latest message. A closed conversation reopens to the bot.
 * Safe to run twice for one message. Returns the conversation's id.
 */
export async function recordCustomerMessage(em: EntityManager, key: JourneyKey, m: CustomerMessage): Promise<string> {
  const [row] = await em.getConnection().execute<Array<{ id: string }>>(
    `with c as (
       insert into conversations as c (id, tenant_id, channel, line_id, contact, customer_name, journey_workflow_id,
         reply_line_id, last_customer_message_at, last_message, last_message_at)
       values (?, ?, ?, ?, ?, ?, ?, ?::uuid, ?::timestamptz, ?, ?::timestamptz)
       on conflict (tenant_id, channel, line_id, contact) do update set
         customer_name = coalesce(excluded.customer_name, c.customer_name),
         reply_line_id = case when excluded.last_customer_message_at >= coalesce(c.last_customer_message_at, '-infinity') then excluded.reply_line_id else c.reply_line_id end,
         last_customer_message_at = greatest(c.last_customer_message_at, excluded.last_customer_message_at),
         last_message = excluded.last_message,
         last_message_at = greatest(c.last_message_at, excluded.last_message_at),
         status = case when c.status = 'closed' then 'bot' else c.status end,
         updated_at = now()
       returning c.id
     ), m as (
       insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, provider_message_id, created_at)
       select ?, ?, c.id, 'in', ?, ?, ?, 'received', ?, ?::timestamptz from c
       on conflict (provider_message_id) do nothing
     )
     select id from c`,
    [
      newId(), key.tenantId, key.channel, key.lineId, key.contact, m.customerName, journeyWorkflowId(key),
      m.arrivedOnOtherLine, m.sentAt, (m.text ?? `[${m.type}]`).slice(0, 500), m.sentAt,
      newId(), key.tenantId, m.type, m.text, JSON.stringify(m.content), m.providerMessageId, m.arrivedAt,
    ],
  );
  return row.id;
}

/** The 24-hour customer-service window: free-form messages only within a day of the customer's last one. */
export const WINDOW_MS = 24 * 3600 * 1000;
export const windowOpen = (lastCustomerMessageAt: Date | null, now = Date.now()): boolean =>
  lastCustomerMessageAt !== null && now - new Date(lastCustomerMessageAt).getTime() < WINDOW_MS;
