import type { EntityManager } from '@mikro-orm/postgresql';
import type { JourneyKey } from './types';

/**
 * Which conversation a customer's message belongs to when it arrives on a line that may have written to them
 * on another line's behalf. The fallback engine (activities/journey/templates.ts) can send a conversation's
 * template from another line of the same WhatsApp Business Account; the customer then answers in the chat of
 * the line that wrote to them, while the journey that sent it, keyed by its own line, waits for the answer.
 *
 * The rule, in order:
 * 1. A reply that quotes one of our messages (a quoted reply, a template's quick-reply button: Meta's
 *    `context.id`) belongs to the conversation that message was sent for, whatever its age: the customer said
 *    which message they answer.
 * 2. Otherwise the latest message that went out from this line to the customer in the last 24 hours decides:
 *    sent for a conversation of another line (a fallback send), the reply is that conversation's; sent for
 *    this line's own conversation, or nothing sent at all, it stays here. So a journey of this line that
 *    wrote to the customer after the fallback send keeps its replies, and one that wrote before it gives them
 *    up to the conversation the customer was answering last.
 * The time of a send is when the provider accepted it (the attempt's end, else the message's sent_at), and only
 * sends before the message arrived count, so a run of the inbox that is late decides as it would have on time.
 */

export interface ReplyRouteInput {
  tenantId: string;
  /** The line the message arrived on. */
  lineId: string;
  contact: string;
  /** The wamid of ours the message quotes (context.id), when it quotes one. */
  replyToMessageId?: string;
  /** When the webhook reached us (the inbox row's received_at). */
  receivedAt: Date;
}

/** The line of the owning conversation; null when it is no longer one of the tenant's lines. */
interface Owner {
  line_id: string | null;
}

/**
 * The journey key of the conversation that owns the reply: the arrival line's own, or another line's (one of
 * the tenant's lines still: a conversation of a removed line gives its replies back to the arrival line).
 */
export async function replyRoute(em: EntityManager, input: ReplyRouteInput): Promise<JourneyKey> {
  const own: JourneyKey = { tenantId: input.tenantId, channel: 'whatsapp', lineId: input.lineId, contact: input.contact };
  const keyOf = (owner: Owner): JourneyKey => (owner.line_id ? { ...own, lineId: owner.line_id } : own);
  const conn = em.getConnection();
  if (input.replyToMessageId) {
    // An attempt's provider id also finds a send of an earlier delivery round, whose wamid the message row no longer holds.
    const [quoted] = await conn.execute<Owner[]>(
      `select l.id as line_id from message_attempts a join messages m on m.id = a.message_id join conversations c on c.id = m.conversation_id
         left join whatsapp_lines l on l.id = c.line_id and l.tenant_id = c.tenant_id
        where a.provider_message_id = ? and a.tenant_id = ? and c.channel = 'whatsapp' and c.contact = ?
       union all
       select l.id from messages m join conversations c on c.id = m.conversation_id
         left join whatsapp_lines l on l.id = c.line_id and l.tenant_id = c.tenant_id
        where m.provider_message_id = ? and m.tenant_id = ? and m.direction = 'out' and c.channel = 'whatsapp' and c.contact = ?
       limit 1`,
      [input.replyToMessageId, input.tenantId, input.contact, input.replyToMessageId, input.tenantId, input.contact],
    );
    if (quoted) return keyOf(quoted);
  }
  const [latest] = await conn.execute<Owner[]>(
    `select l.id as line_id
       from conversations c
       left join whatsapp_lines l on l.id = c.line_id and l.tenant_id = c.tenant_id
       join messages m on m.conversation_id = c.id and m.direction = 'out' and m.status <> 'failed'
        and m.created_at > ?::timestamptz - interval '24 hours'
       left join lateral (
         select a.line_id, a.finished_at from message_attempts a
          where a.message_id = m.id and a.outcome = 'sent' order by a.finished_at desc nulls last limit 1
       ) sent on true
      where c.tenant_id = ? and c.channel = 'whatsapp' and c.contact = ?
        and (sent.line_id is not null or m.provider_message_id is not null)
        and coalesce(sent.line_id, m.sent_line_id, c.line_id) = ?
        and coalesce(sent.finished_at, m.sent_at, m.created_at) <= ?::timestamptz
      order by coalesce(sent.finished_at, m.sent_at, m.created_at) desc
      limit 1`,
    [input.receivedAt, input.tenantId, input.contact, input.lineId, input.receivedAt],
  );
  return latest ? keyOf(latest) : own;
}
