import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { channelErrorOf } from '../../core/channels/errors';
import type { OutboundMessage as ChannelMessage } from '../../core/channels/outbound';
import { REDELIVER_MAX_TRIES, type DeliveryActivities, type RedeliverResult } from '../../core/delivery/types';
import type { OutboundMessage, OutboundSend } from '../../core/journey/types';
import { sqlOf, type Sql } from '../../core/db/sql';
import type { SendFn } from '../campaign/page';

type Conn = Sql;

interface MessageRow {
  id: string;
  tenant_id: string;
  status: string;
  provider_message_id: string | null;
  idempotency_key: string | null;
  payload: Record<string, unknown>;
  template_ref: TemplateRef | null;
  template_name: string | null;
  journey_node: string | null;
  sent_by: string | null;
  source_ref: string | null;
  campaign_id: string | null;
  delivery_round: number;
  attempts: number;
  channel: string;
  line_id: string;
  contact: string;
  phone_number_id: string | null;
}

type TemplateRef = { templateId?: string; templateGroupId?: string; name?: string; language: string; params?: string[] };

const accepted = ['sent', 'delivered', 'read'];

type RedeliverInput = Parameters<DeliveryActivities['redeliver']>[0];

/** Which try of the activity this is (1 outside an activity). */
function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** What was asked for, rebuilt from the stored row: the send path derives the provider's message from it again. */
export function intentOf(payload: Record<string, unknown>, ref: TemplateRef | null): OutboundMessage {
  const p = payload as Record<string, never>;
  if (ref || p.templateId || p.templateGroupId) {
    const r = (ref ?? p) as TemplateRef;
    return { type: 'template', templateId: r.templateId, templateGroupId: r.templateGroupId, name: r.name, language: r.language, params: r.params ?? [] };
  }
  const m = payload as ChannelMessage;
  switch (m.type) {
    case 'text':
      return { type: 'text', text: m.body, previewUrl: m.previewUrl };
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
      return { type: 'media', mediaType: m.type, url: m.link!, caption: 'caption' in m ? m.caption : undefined, filename: 'filename' in m ? m.filename : undefined };
    case 'template':
      return { type: 'template', name: m.name, language: m.language, params: m.params ?? [] };
    case 'buttons':
      return { type: 'buttons', text: m.body, buttons: m.buttons };
    case 'list':
      return { type: 'list', text: m.body, buttonLabel: m.buttonText, rows: m.sections.flatMap((s) => s.rows) };
  }
}

async function loadMessage(conn: Conn, messageId: string, tenantId: string, lock = false): Promise<MessageRow | undefined> {
  const [row] = await conn.execute<MessageRow[]>(
    `select m.id, m.tenant_id, m.status, m.provider_message_id, m.idempotency_key, m.payload, m.template_ref, m.template_name, m.journey_node,
       m.sent_by, m.source_ref, m.campaign_id, m.delivery_round, m.attempts, c.channel, c.line_id, c.contact, l.phone_number_id
     from messages m join conversations c on c.id = m.conversation_id left join whatsapp_lines l on l.id = c.line_id
     where m.id = ? and m.tenant_id = ? and m.direction = 'out' ${lock ? 'for update of m' : ''}`,
    [messageId, tenantId],
  );
  return row;
}

/**
 * Makes the message a new send round, once: the previous round's outcome goes to message_attempts (a send
 * without template fallback has no attempt rows of its own, so it gets one), the row goes back to `queued`
 * without its provider id, and the request is recorded. Refuses a message WhatsApp has accepted meanwhile, or
 * one another retry reopened first.
 */
async function reopen(em: EntityManager, input: RedeliverInput): Promise<string | undefined> {
  return em.transactional(async (tx) => {
    const conn = sqlOf(tx);
    const m = await loadMessage(conn, input.messageId, input.tenantId, true);
    if (!m) return 'the message no longer exists';
    if (m.delivery_round === input.round) return undefined;
    const refuse = async (why: string) => {
      await conn.execute(
        `insert into message_retries (message_id, round, tenant_id, requested_by, outcome, detail, finished_at) values (?, ?, ?, ?, 'refused', ?, now())
         on conflict do nothing`,
        [m.id, input.round, m.tenant_id, input.requestedBy, why],
      );
      return why;
    };
    if (m.delivery_round !== input.round - 1) return refuse(`another retry (round ${m.delivery_round}) came first`);
    if (accepted.includes(m.status)) return refuse(`WhatsApp accepted it meanwhile (${m.status}): it is never sent twice`);
    if (!m.idempotency_key) return refuse('the message has no send key to send it again with');
    const previous = input.round - 1;
    // A late failure of a send the fallback engine made: its attempt still says sent.
    await conn.execute(
      `update message_attempts a set outcome = 'failed', error_code = m.error_code, error_title = m.error_title, finished_at = coalesce(a.finished_at, now())
       from messages m where m.id = a.message_id and a.message_id = ? and a.round = ? and a.outcome = 'sent' and a.provider_message_id = m.provider_message_id`,
      [m.id, previous],
    );
    await conn.execute(
      `insert into message_attempts (message_id, attempt_no, round, tenant_id, line_id, phone_number_id, template_name, outcome, provider_message_id,
         error_class, error_code, error_title, tries, started_at, finished_at)
       select m.id, coalesce((select max(attempt_no) from message_attempts where message_id = m.id), 0) + 1, ?, m.tenant_id, c.line_id, coalesce(l.phone_number_id, ''),
         m.template_name, case when m.status = 'failed' then 'failed' else 'pending' end, m.provider_message_id, null, m.error_code, m.error_title,
         m.attempts, m.created_at, case when m.status = 'failed' then coalesce(m.failed_at, m.updated_at) end
       from messages m join conversations c on c.id = m.conversation_id left join whatsapp_lines l on l.id = c.line_id
       where m.id = ? and (m.status = 'failed' or m.attempts > 0)
         and not exists (select 1 from message_attempts a where a.message_id = m.id and a.round = ?)`,
      [previous, m.id, previous],
    );
    await conn.execute(
      `update messages set delivery_round = ?, status = 'queued', provider_message_id = null, error_code = null, error_title = null,
         sent_at = null, delivered_at = null, read_at = null, failed_at = null, stale_at = null,
         follow_until = now() + make_interval(secs => ?::float8 / 1000), updated_at = now()
       where id = ?`,
      [input.round, input.followForMs, m.id],
    );
    await conn.execute(
      `insert into message_retries (message_id, round, tenant_id, requested_by) values (?, ?, ?, ?) on conflict do nothing`,
      [m.id, input.round, m.tenant_id, input.requestedBy],
    );
    return undefined;
  });
}

async function finishRetry(conn: Conn, messageId: string, round: number, outcome: 'sent' | 'failed', detail?: string): Promise<void> {
  await conn.execute(`update message_retries set outcome = ?, detail = ?, finished_at = now() where message_id = ? and round = ?`, [
    outcome,
    detail?.slice(0, 500) ?? null,
    messageId,
    round,
  ]);
}

/**
 * A send without template fallback records its own attempt of the round; the fallback engine records those of
 * template sends by id or group itself. A retried activity takes up the pending attempt of its round.
 */
async function beginAttempt(conn: Conn, m: MessageRow, round: number): Promise<number> {
  const [pending] = await conn.execute<Array<{ attempt_no: number }>>(
    `update message_attempts set tries = tries + 1 where message_id = ? and round = ? and outcome = 'pending' returning attempt_no`,
    [m.id, round],
  );
  if (pending) return pending.attempt_no;
  const [row] = await conn.execute<Array<{ attempt_no: number }>>(
    `insert into message_attempts (message_id, attempt_no, round, tenant_id, line_id, phone_number_id, template_name, outcome, tries)
     values (?, coalesce((select max(attempt_no) from message_attempts where message_id = ?), 0) + 1, ?, ?, ?, ?, ?, 'pending', 1)
     returning attempt_no`,
    [m.id, m.id, round, m.tenant_id, m.line_id, m.phone_number_id ?? '', m.template_name],
  );
  return row.attempt_no;
}

/** A send that failed: the attempt is over when the error is final, else it stays pending for the next try. */
async function failAttempt(conn: Conn, messageId: string, attemptNo: number, err: unknown, final: boolean): Promise<void> {
  const failure = err instanceof ApplicationFailure ? err : undefined;
  const channel = channelErrorOf(err);
  await conn.execute(
    `update message_attempts set outcome = ?, error_class = ?, error_code = ?, error_title = ?, finished_at = case when ? then now() end
     where message_id = ? and attempt_no = ?`,
    [final ? 'failed' : 'pending', channel?.errorClass ?? failure?.type ?? null, channel?.code ?? null, err instanceof Error ? err.message.slice(0, 500) : null, final, messageId, attemptNo],
  );
}

/**
 * The round's send was accepted: its attempt (the fallback engine records its own, which name a template), a
 * campaign recipient counted failed, and the retry request say so.
 */
async function succeeded(conn: Conn, m: MessageRow, round: number, providerMessageId: string): Promise<RedeliverResult> {
  await conn.execute(
    `update message_attempts set outcome = 'sent', provider_message_id = ?, error_class = null, error_code = null, error_title = null, finished_at = now()
     where message_id = ? and round = ? and outcome = 'pending' and template_id is null`,
    [providerMessageId, m.id, round],
  );
  const [kind, campaignId, recipientId] = m.idempotency_key?.split('/') ?? [];
  if (kind === 'campaign' && /^\d+$/.test(recipientId ?? '')) {
    await conn.execute(
      `update campaign_recipients set state = 'sent', message_id = ?, last_error = null, updated_at = now() where id = ? and campaign_id::text = ? and state = 'failed'`,
      [m.id, recipientId, campaignId],
    );
  }
  await finishRetry(conn, m.id, round, 'sent');
  return { outcome: 'sent', providerMessageId };
}

/**
 * A manual retry (POST /api/monitor/delivery): reopens the message as round `round`, then sends it through the
 * send path every message takes (message row first, its key; the template fallback engine for sends by id or
 * group). Idempotent: run again, it finds its round open, or the provider's id stored.
 */
export function redeliverActivity(deps: { orm: MikroORM; sendMessage: SendFn }) {
  return async function redeliver(input: RedeliverInput): Promise<RedeliverResult> {
    const em = deps.orm.em.fork();
    const conn = sqlOf(em);
    const refused = await reopen(em, input);
    if (refused) return { outcome: 'refused', detail: refused };
    const m = (await loadMessage(conn, input.messageId, input.tenantId))!;
    // A run of this activity before a crash got the answer already.
    if (m.provider_message_id) return succeeded(conn, m, input.round, m.provider_message_id);
    const message = intentOf(m.payload, m.template_ref);
    const send: OutboundSend = {
      key: { tenantId: m.tenant_id, channel: m.channel as OutboundSend['key']['channel'], lineId: m.line_id, contact: m.contact },
      idempotencyKey: m.idempotency_key!,
      nodeId: m.journey_node ?? undefined,
      sentBy: m.sent_by ?? undefined,
      sourceRef: m.source_ref ?? undefined,
      campaignId: m.campaign_id ?? undefined,
      message,
    };
    const byReference = message.type === 'template' && Boolean(message.templateId || message.templateGroupId);
    const attemptNo = byReference ? undefined : await beginAttempt(conn, m, input.round);
    try {
      const sent = await deps.sendMessage(send);
      return await succeeded(conn, m, input.round, sent.providerMessageId!);
    } catch (err) {
      const definitive = err instanceof ApplicationFailure && err.nonRetryable;
      const givingUp = !definitive && activityAttempt() >= REDELIVER_MAX_TRIES;
      if (attemptNo !== undefined) await failAttempt(conn, m.id, attemptNo, err, definitive || givingUp);
      // Transient: Temporal retries this activity, which takes up the same round and attempt.
      if (!definitive && !givingUp) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      // A request that may have reached WhatsApp stays queued (in doubt) rather than failed: its status may still come.
      if (givingUp && !channelErrorOf(err)?.maybeSent) {
        await conn.execute(`update messages set status = 'failed', error_code = ?, error_title = ?, failed_at = now(), updated_at = now() where id = ? and status = 'queued'`, [
          channelErrorOf(err)?.code ?? 0,
          `Gave up after ${REDELIVER_MAX_TRIES} tries: ${detail}`.slice(0, 500),
          m.id,
        ]);
      }
      await finishRetry(conn, m.id, input.round, 'failed', detail);
      return { outcome: 'failed', detail };
    }
  };
}
