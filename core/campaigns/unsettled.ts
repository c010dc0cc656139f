import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Campaign sends whose outcome a crash hid. A send is "made" once its message row counts an attempt
 * (`messages.attempts`, incremented right before the provider call); a worker killed between that moment and
 * storing the provider's answer leaves a message that may or may not have gone out, and the Cloud API has no
 * idempotency key to ask. Sending it again could give the customer two messages; not sending it could give
 * them none. So such a recipient is held `in_doubt` until the provider's own word settles it: Meta posts a
 * status webhook for every message it accepted, and a status for a message id we do not know, to a contact
 * whose only message in flight is that campaign send, is that send (adoptUnknownStatus). Only after a grace
 * period without any such sign is it sent again.
 */

type Conn = ReturnType<EntityManager['getConnection']>;

const messageOf = `m.idempotency_key = 'campaign/' || r2.campaign_id || '/' || r2.id`;

/** The idempotency key of a recipient's message. */
export const campaignSendKey = (campaignId: string, recipientId: string): string => `campaign/${campaignId}/${recipientId}`;

/**
 * Recipients a previous page attempt left `sending` (its worker died): each settles by what its message row
 * says — accepted, refused, made (in doubt), or never made (pending again). Run before a page claims anything.
 */
export async function recoverInterruptedSends(conn: Conn, campaignId: string): Promise<number> {
  const rows = await conn.execute<Array<{ id: string }>>(
    `update campaign_recipients r set
       state = case when m.provider_message_id is not null then 'sent'
                    when m.status = 'failed' then 'failed'
                    when m.attempts >= r2.attempts then 'in_doubt'
                    else 'pending' end,
       message_id = m.id, updated_at = now()
     from campaign_recipients r2 left join messages m on ${messageOf}
     where r.id = r2.id and r2.campaign_id = ? and r2.state = 'sending'
     returning r.id`,
    [campaignId],
  );
  return rows.length;
}

/**
 * In-doubt recipients: sent when their message got a provider id meanwhile (a status webhook adopted it),
 * failed when a status said so, pending (to be sent again) when nothing was heard for `graceMs`. Returns how
 * many are still in doubt.
 */
export async function settleInDoubt(conn: Conn, campaignId: string, graceMs: number): Promise<number> {
  await conn.execute(
    `update campaign_recipients r set
       state = case when m.provider_message_id is not null then 'sent' when m.status = 'failed' then 'failed' else 'pending' end,
       message_id = m.id, updated_at = now(),
       last_error = case when m.provider_message_id is null and m.status <> 'failed'
                         then 'Sent again: a worker stopped during the send and the provider never reported it' else r.last_error end
     from campaign_recipients r2 left join messages m on ${messageOf}
     where r.id = r2.id and r2.campaign_id = ? and r2.state = 'in_doubt'
       and (m.id is null or m.provider_message_id is not null or m.status = 'failed' or r2.updated_at < now() - make_interval(secs => ?::float8 / 1000))`,
    [campaignId, graceMs],
  );
  const [{ count }] = await conn.execute<Array<{ count: string }>>(
    `select count(*) from campaign_recipients where campaign_id = ? and state in ('in_doubt', 'sending')`,
    [campaignId],
  );
  return Number(count);
}

/**
 * A status webhook names a message id we have not stored. If the contact's only outbound message in flight
 * on that line (an attempt made, no provider id yet) is a campaign send, or any send whose latest call's
 * outcome is not stored (`unsettled_call_at`), the status is about it: its worker died before storing the
 * answer, or has not stored it yet (the same id is stored then). Stores the provider id on that message; true
 * when it did.
 *
 * The template fallback engine's attempts count too: one whose call left that line (`called_at`, which may be
 * the group's other line, whose conversation is not the message's) and whose outcome is not stored is in
 * flight for its message. When it is the only one, the status is its: see adoptAttempt.
 */
export async function adoptUnknownStatus(
  em: EntityManager,
  req: { phoneNumberId: string; contact: string; providerMessageId: string; at: Date },
): Promise<boolean> {
  const conn = em.getConnection();
  const inFlight = await conn.execute<Array<{ id: string; idempotency_key: string | null; unsettled: boolean }>>(
    `select m.id, m.idempotency_key, m.unsettled_call_at is not null as unsettled
     from whatsapp_lines l
     join conversations c on c.tenant_id = l.tenant_id and c.channel = 'whatsapp' and c.line_id = l.id and c.contact = ?
     join messages m on m.conversation_id = c.id
     where l.phone_number_id = ? and m.direction = 'out' and m.provider_message_id is null and m.status = 'queued' and m.attempts > 0
       and m.created_at > now() - interval '1 day'
     limit 2`,
    [req.contact, req.phoneNumberId],
  );
  const calls = await conn.execute<AttemptCall[]>(
    `select a.message_id, a.attempt_no, a.template_name, a.template_language, m.conversation_id, m.idempotency_key,
       m.provider_message_id is null and m.status = 'queued' as awaiting, coalesce(m.template_ref, m.payload)->'params' as params
     from message_attempts a
     join whatsapp_lines l on l.phone_number_id = a.phone_number_id and l.tenant_id = a.tenant_id
     join messages m on m.id = a.message_id and m.delivery_round = a.round
     join conversations c on c.id = m.conversation_id and c.contact = ?
     where a.phone_number_id = ? and a.outcome = 'pending' and a.called_at is not null and a.provider_message_id is null
       and a.called_at > now() - interval '1 day'
     limit 2`,
    [req.contact, req.phoneNumberId],
  );
  if (new Set([...inFlight.map((m) => m.id), ...calls.map((c) => c.message_id)]).size !== 1) return false;
  if (calls.length) {
    const [call] = calls;
    const took = calls.length === 1 ? await adoptAttempt(em, call, req) : undefined;
    return took === 'message' ? recipientSent(conn, call.message_id, call.idempotency_key) : took === 'attempt';
  }
  const [message] = inFlight;
  const campaignSend = message.idempotency_key?.startsWith('campaign/') ?? false;
  if (!(campaignSend || message.unsettled)) return false;
  try {
    const adopted = await conn.execute<Array<{ id: string }>>(
      `update messages set provider_message_id = ?, status = 'sent', sent_at = coalesce(sent_at, ?), unsettled_call_at = null, updated_at = now()
       where id = ? and provider_message_id is null and status = 'queued' returning id`,
      [req.providerMessageId, req.at, message.id],
    );
    if (!adopted.length) return false;
  } catch {
    // The id is another message's after all (unique index): not ours to take.
    return false;
  }
  return recipientSent(conn, message.id, message.idempotency_key);
}

/** A campaign send's provider id was adopted: its recipient held in doubt is sent. True. */
async function recipientSent(conn: Conn, messageId: string, idempotencyKey: string | null): Promise<true> {
  if (!idempotencyKey?.startsWith('campaign/')) return true;
  const [, campaignId, recipientId] = idempotencyKey.split('/');
  await conn.execute(
    `update campaign_recipients set state = 'sent', message_id = ?, updated_at = now() where id = ? and campaign_id = ? and state = 'in_doubt'`,
    [messageId, recipientId, campaignId],
  );
  return true;
}

interface AttemptCall {
  message_id: string;
  attempt_no: number;
  template_name: string;
  template_language: string;
  conversation_id: string;
  idempotency_key: string | null;
  /** The message has no provider id yet (a send, a manual retry's round), rather than a late-failed one's. */
  awaiting: boolean;
  params: string[] | null;
}

/**
 * The status is the attempt's: it says sent with that provider id, and so does its message when that still
 * waits for its first one, as the engine's caller would have recorded it (the template that went out). A
 * message that holds a late-failed send's id is the delivery workflow's to move on (its continuation, waiting
 * in the engine, finds the attempt sent and records it with its follow-up). Says what took the id, if anything.
 */
async function adoptAttempt(em: EntityManager, call: AttemptCall, req: { providerMessageId: string; at: Date }): Promise<'message' | 'attempt' | undefined> {
  try {
    return await em.transactional(async (tx) => {
      const adopted = await tx.execute<Array<{ attempt_no: number }>>(
        `update message_attempts set outcome = 'sent', provider_message_id = ?, error_class = null, error_code = null, error_title = null, finished_at = now()
         where message_id = ? and attempt_no = ? and outcome = 'pending' and provider_message_id is null returning attempt_no`,
        [req.providerMessageId, call.message_id, call.attempt_no],
      );
      if (!adopted.length) return undefined;
      if (!call.awaiting) return 'attempt';
      const sent = { type: 'template', name: call.template_name, language: call.template_language, params: call.params?.length ? call.params : undefined };
      const text = `[template ${call.template_name}]`;
      const updated = await tx.execute<Array<{ id: string }>>(
        `update messages set provider_message_id = ?, status = 'sent', sent_at = coalesce(sent_at, ?), unsettled_call_at = null,
           text = ?, payload = ?::jsonb, template_name = ?, updated_at = now()
         where id = ? and provider_message_id is null and status = 'queued' returning id`,
        [req.providerMessageId, req.at, text, JSON.stringify(sent), call.template_name, call.message_id],
      );
      if (!updated.length) return 'attempt';
      await tx.execute(`update conversations set last_message = ?, last_message_at = now(), updated_at = now() where id = ?`, [text, call.conversation_id]);
      return 'message';
    });
  } catch (err) {
    // The id is another message's after all (unique index): not ours to take.
    if (err instanceof UniqueConstraintViolationException) return undefined;
    throw err;
  }
}
