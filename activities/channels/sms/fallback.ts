import type { EntityManager } from '@mikro-orm/postgresql';
import { ChannelSendError } from '../../../core/channels/errors';
import type { TemplateMessage } from '../../../core/channels/outbound';
import { smsCredentials, type SmsCredentials } from '../../../core/channels/sms-settings';
import type { SecretBox } from '../../../core/crypto/secret-box';
import type { TemplateFallbackSend, TemplateFallbackSent } from '../../journey/templates';
import { renderTemplateBody } from './render';
import { recentSmsTo, sendSms, type SmsMessage } from './twilio-client';

/**
 * The fallback engine's last step: when no WhatsApp template of the group could be sent and the tenant has
 * SMS with fallbackEnabled, the last template tried is sent as an SMS (its body text with the parameters),
 * recorded as one more `message_attempts` row with channel 'sms' (phone_number_id: the SMS sender).
 *
 * At most once per round of the message: the attempt row is written before the provider call, a retried
 * activity that finds it sent returns it, and one left pending by a call whose answer was lost (the worker
 * died, the connection broke) is first looked for at the provider, by its status callback (which carries the
 * attempt's key) or by the provider's list of recent messages to the contact, before it is sent again.
 *
 * What went out is marked in the message's payload: `channel: 'sms'`, the SMS `text` and its `from`.
 */

interface SmsAttempt {
  attempt_no: number;
  outcome: 'pending' | 'sent' | 'failed' | 'skipped';
  provider_message_id: string | null;
  tries: number;
  started_at: Date;
}

interface Rendered {
  templateId: string;
  name: string;
  language: string;
  text: string;
}

type Conn = ReturnType<EntityManager['getConnection']>;

/** How far the provider's clock may be behind ours when a lost send is looked for by its creation time. */
const CLOCK_SKEW_MS = 60_000;

/** The attempt's key in its status callback URL: how a callback finds an attempt whose answer was lost. */
export const attemptKeyOf = (messageId: string, attemptNo: number) => `${messageId}.${attemptNo}`;

export function parseAttemptKey(key: string | undefined): { messageId: string; attemptNo: number } | undefined {
  const m = key?.match(/^([0-9a-f-]{36})\.(\d{1,9})$/i);
  return m ? { messageId: m[1], attemptNo: Number(m[2]) } : undefined;
}

export function statusCallbackFor(baseUrl: string, key: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('attempt', key);
  return url.toString();
}

const e164 = (contact: string) => `+${contact.replace(/^\+/, '')}`;
const senderOf = (s: SmsCredentials) => s.fromNumber ?? s.messagingServiceSid!;

/** Sends the message by SMS, or returns undefined when SMS is off for the tenant or the SMS was refused for good. */
export async function sendSmsFallback(deps: { box: SecretBox; tenantFetch: typeof fetch }, send: TemplateFallbackSend): Promise<TemplateFallbackSent | undefined> {
  const settings = await smsCredentials(send.em, deps.box, send.tenantId);
  if (!settings?.fallbackEnabled) return undefined;
  const conn = send.em.getConnection();
  const [{ delivery_round: round }] = await conn.execute<Array<{ delivery_round: number }>>(`select delivery_round from messages where id = ?`, [send.messageId]);
  const [existing] = await conn.execute<SmsAttempt[]>(
    `select attempt_no, outcome, provider_message_id, tries, started_at
     from message_attempts where message_id = ? and round = ? and channel = 'sms'`,
    [send.messageId, round],
  );
  const params = send.message.params;
  const result = (sid: string, r: { name: string; language: string; text: string; from: string }): TemplateFallbackSent => {
    const sent = { type: 'template' as const, name: r.name, language: r.language, params: params.length ? params : undefined, channel: 'sms', text: r.text, from: r.from };
    return { wamid: sid, sent: sent as TemplateMessage, phoneNumberId: r.from };
  };
  if (existing?.outcome === 'failed') return undefined;

  const rendered = await lastTemplateText(conn, send, round);
  if (!rendered) return undefined;
  const to = e164(send.to);
  const from = senderOf(settings);
  const sentAs = { name: rendered.name, language: rendered.language, text: rendered.text, from };

  if (existing && existing.tries > 0) {
    const found = existing.provider_message_id ?? (await lostSend(conn, settings, deps.tenantFetch, { to, text: rendered.text, since: new Date(existing.started_at) }))?.sid;
    if (found) {
      await finish(conn, send.messageId, existing.attempt_no, 'sent', { sid: found });
      return result(found, sentAs);
    }
  }

  const attemptNo = existing?.attempt_no ?? (await nextAttemptNo(conn, send.messageId));
  await conn.execute(
    `insert into message_attempts (message_id, attempt_no, round, tenant_id, line_id, phone_number_id, template_id, template_name, template_language, outcome, tries, channel)
     values (?, ?, ?, ?, null, ?, ?, ?, ?, 'pending', 1, 'sms')
     on conflict (message_id, attempt_no) do update set outcome = 'pending', finished_at = null, tries = message_attempts.tries + 1`,
    [send.messageId, attemptNo, round, send.tenantId, from, rendered.templateId, rendered.name, rendered.language],
  );
  await conn.execute(`update messages set attempts = attempts + 1 where id = ?`, [send.messageId]);
  try {
    const message = await sendSms({
      fetch: deps.tenantFetch,
      baseUrl: settings.baseUrl,
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      to,
      from: settings.fromNumber ? { number: settings.fromNumber } : { messagingServiceSid: settings.messagingServiceSid! },
      body: rendered.text,
      statusCallback: settings.statusCallbackUrl ? statusCallbackFor(settings.statusCallbackUrl, attemptKeyOf(send.messageId, attemptNo)) : undefined,
    });
    await finish(conn, send.messageId, attemptNo, 'sent', { sid: message.sid });
    return result(message.sid, sentAs);
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    await finish(conn, send.messageId, attemptNo, err.retryable ? 'pending' : 'failed', { error: err });
    if (err.retryable) throw err;
    return undefined;
  }
}

/** The body text of the last WhatsApp template this round tried, with the send's parameters. */
async function lastTemplateText(conn: Conn, send: TemplateFallbackSend, round: number): Promise<Rendered | undefined> {
  const [t] = await conn.execute<Array<{ id: string; name: string; language: string; components: unknown }>>(
    `select t.id, t.name, t.language, t.components from message_attempts a join templates t on t.id = a.template_id and t.tenant_id = a.tenant_id
     where a.message_id = ? and a.round = ? and a.channel = 'whatsapp' order by a.attempt_no desc limit 1`,
    [send.messageId, round],
  );
  const text = t ? renderTemplateBody(t.components, send.message.params) : undefined;
  return t && text ? { templateId: t.id, name: t.name, language: t.language, text } : undefined;
}

async function nextAttemptNo(conn: Conn, messageId: string): Promise<number> {
  const [{ n }] = await conn.execute<Array<{ n: number }>>(`select coalesce(max(attempt_no), 0) + 1 as n from message_attempts where message_id = ?`, [messageId]);
  return Number(n);
}

/** A message the provider holds for this send that no attempt has claimed: same recipient and text, created since the attempt began. */
async function lostSend(conn: Conn, settings: SmsCredentials, fetchFn: typeof fetch, s: { to: string; text: string; since: Date }): Promise<SmsMessage | undefined> {
  const recent = await recentSmsTo({ fetch: fetchFn, baseUrl: settings.baseUrl, accountSid: settings.accountSid, authToken: settings.authToken, to: s.to, from: settings.fromNumber ?? undefined });
  const candidates = recent.filter(
    (m) =>
      m.body === s.text &&
      (settings.fromNumber || m.messagingServiceSid === settings.messagingServiceSid) &&
      (!m.dateCreated || m.dateCreated.getTime() >= s.since.getTime() - CLOCK_SKEW_MS),
  );
  if (!candidates.length) return undefined;
  const claimed = await conn.execute<Array<{ provider_message_id: string }>>(
    `select provider_message_id from message_attempts where channel = 'sms' and provider_message_id in (${candidates.map(() => '?').join(', ')})`,
    candidates.map((m) => m.sid),
  );
  const taken = new Set(claimed.map((c) => c.provider_message_id));
  return candidates.find((m) => !taken.has(m.sid));
}

async function finish(conn: Conn, messageId: string, attemptNo: number, outcome: 'sent' | 'failed' | 'pending', r: { sid?: string; error?: ChannelSendError }): Promise<void> {
  const e = r.error;
  await conn.execute(
    `update message_attempts set outcome = ?, provider_message_id = coalesce(?, provider_message_id), error_class = ?, error_code = ?, error_title = ?,
       finished_at = case when ? = 'pending' then null else now() end
     where message_id = ? and attempt_no = ?`,
    [outcome, r.sid ?? null, e?.errorClass ?? null, e?.code ?? null, e ? `${e.message}${e.details ? `: ${e.details}` : ''}`.slice(0, 500) : null, outcome, messageId, attemptNo],
  );
}
