import type { EntityManager } from '@mikro-orm/postgresql';
import { ChannelSendError, type ChannelErrorClass } from '../../core/channels/errors';
import { decryptedAccessToken, markLineNeedsReauth } from '../../core/channels/lines';
import type { TemplateMessage } from '../../core/channels/outbound';
import type { SecretBox } from '../../core/crypto/secret-box';
import { WhatsAppLine, type AttemptOutcome, type Template } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { TemplateReferenceMessage } from '../../core/journey/template-reference';
import { resolveTemplateReference, type TemplateReference } from '../../core/templates/resolve';
import { sendSmsFallback } from '../channels/sms/fallback';
import type { WhatsAppClient } from '../channels/whatsapp';
import { awaitProviderWord, inDoubtFailure, stillInDoubt } from './in-doubt';

/**
 * The fallback engine for template sends by reference (a template id or a template group): each APPROVED
 * template of the group in order on the sending line, then the same on the fallback line (the group's
 * preferred line, else another line of the same WhatsApp Business Account). A definitive error moves on to the
 * next candidate; a credentials error also takes that line out of the plan; a transient error is thrown so that
 * Temporal retries the activity, which then takes up the same attempt. Every try is a `message_attempts` row
 * keyed by (message id, attempt no), so a retried activity never sends again once an attempt succeeded.
 *
 * The Cloud API has no idempotency key: an attempt whose call left (`called_at`, marked once the line's governor
 * let it go) and whose answer was never stored (the worker died, the connection broke) may have gone out. A
 * retry waits for the provider's status webhook, which adopts the attempt (adoptUnknownStatus in
 * core/campaigns/unsettled.ts), and sends it again only after a grace period without a word, as plain sends do
 * (activities/journey/in-doubt.ts).
 */


interface Candidate {
  line: WhatsAppLine;
  template: Template;
}

/** The lines to try, in order: the sending line when it is in the templates' WABA, then one fallback line. */
async function fallbackPlan(em: EntityManager, tenantId: string, sendingLine: WhatsAppLine, ref: TemplateReference): Promise<Candidate[]> {
  let resolved;
  try {
    resolved = await resolveTemplateReference(em, tenantId, ref);
  } catch (err) {
    if (err instanceof AppError) throw new ChannelSendError({ errorClass: 'definitive', message: err.message });
    throw err;
  }
  const { templates, preferredLine } = resolved;
  const wabaId = templates[0].wabaId;
  const lines = sendingLine.wabaId === wabaId ? [sendingLine] : [];
  const others = await em.find(WhatsAppLine, { tenantId, wabaId, id: { $ne: sendingLine.id } }, { orderBy: { isPrimary: 'desc', createdAt: 'asc', id: 'asc' } });
  const fallback = preferredLine && preferredLine.id !== sendingLine.id ? preferredLine : (others.find((l) => l.status === 'active') ?? others[0]);
  if (fallback) lines.push(fallback);
  if (!lines.length) throw new ChannelSendError({ errorClass: 'definitive', message: `None of your lines belongs to WhatsApp Business Account ${wabaId}, which holds the templates` });
  return lines.flatMap((line) => templates.map((template) => ({ line, template })));
}

interface AttemptRow {
  round: number;
  attempt_no: number;
  line_id: string | null;
  phone_number_id: string;
  template_id: string | null;
  template_name: string | null;
  template_language: string | null;
  outcome: AttemptOutcome;
  provider_message_id: string | null;
  error_class: string | null;
  error_code: number | null;
  error_title: string | null;
  /** How long ago the attempt's latest call left, while its outcome is not stored (null when none is in doubt). */
  called_ms: number | null;
  /** 'whatsapp', or 'sms' for the SMS fallback's attempt (activities/channels/sms/fallback.ts). */
  channel: string;
}

const attemptColumns = `round, attempt_no, line_id, phone_number_id, template_id, template_name, template_language, outcome, provider_message_id, channel,
  error_class, error_code, error_title,
  case when outcome = 'pending' then (extract(epoch from now() - called_at) * 1000)::float8 end as called_ms`;

interface AttemptKey {
  messageId: string;
  attemptNo: number;
  round: number;
  tenantId: string;
  candidate: Candidate;
}

type Conn = ReturnType<EntityManager['getConnection']>;

const candidateKey = (lineId: string | null, templateId: string | null) => `${lineId}/${templateId}`;
const describe = (err: ChannelSendError) => `${err.message}${err.details ? `: ${err.details}` : ''}`.slice(0, 500);

/**
 * Records the start of a provider call (a repeated start of the same attempt counts one more try), or a skip.
 * False when the attempt taken up was settled meanwhile (a status webhook adopted it): nothing to start.
 */
async function startAttempt(conn: Conn, a: AttemptKey, outcome: 'pending' | 'skipped', skipReason?: string): Promise<boolean> {
  const { line, template } = a.candidate;
  const started = await conn.execute<Array<{ attempt_no: number }>>(
    `insert into message_attempts (message_id, attempt_no, round, tenant_id, line_id, phone_number_id, template_id, template_name, template_language,
       outcome, error_title, tries, finished_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, case when ? = 'skipped' then now() end)
     on conflict (message_id, attempt_no) do update set outcome = excluded.outcome, error_title = coalesce(excluded.error_title, message_attempts.error_title),
       tries = message_attempts.tries + excluded.tries, finished_at = excluded.finished_at
       where message_attempts.outcome = 'pending'
     returning attempt_no`,
    [a.messageId, a.attemptNo, a.round, a.tenantId, line.id, line.phoneNumberId, template.id, template.name, template.language, outcome, skipReason ?? null, outcome === 'pending' ? 1 : 0, outcome],
  );
  if (!started.length) return false;
  if (outcome === 'pending') await conn.execute(`update messages set attempts = attempts + 1 where id = ?`, [a.messageId]);
  return true;
}

/**
 * The moment the call leaves: from now on the attempt may go out whatever happens to this worker. Refuses
 * (stopping the send) when a status webhook adopted the attempt since it was taken up.
 */
async function markCalled(conn: Conn, a: AttemptKey): Promise<void> {
  const marked = await conn.execute<Array<{ attempt_no: number }>>(
    `update message_attempts set called_at = now() where message_id = ? and attempt_no = ? and outcome = 'pending' returning attempt_no`,
    [a.messageId, a.attemptNo],
  );
  if (!marked.length) throw new ChannelSendError({ errorClass: 'transient', message: 'The attempt was settled by the provider while it was being sent again' });
}

/**
 * Stores the call's outcome. An attempt a status webhook adopted meanwhile stays as it is; a call the provider
 * refused (not `maybeSent`) is no longer in doubt.
 */
async function endAttempt(conn: Conn, a: AttemptKey, outcome: AttemptOutcome, result: { providerMessageId?: string; error?: ChannelSendError }): Promise<void> {
  const { error } = result;
  const refused = outcome === 'pending' && !error?.maybeSent;
  await conn.execute(
    `update message_attempts set outcome = ?, provider_message_id = ?, error_class = ?, error_code = ?, error_title = ?,
       finished_at = case when ? = 'pending' then null else now() end, called_at = case when ? then null else called_at end
     where message_id = ? and attempt_no = ? and outcome = 'pending'`,
    [outcome, result.providerMessageId ?? null, error?.errorClass ?? null, error?.code ?? null, error ? describe(error) : null, outcome, refused, a.messageId, a.attemptNo],
  );
}

export interface TemplateFallbackSend {
  em: EntityManager;
  /** The logical send: its message row. */
  messageId: string;
  tenantId: string;
  to: string;
  /** The line the send belongs to (the journey's or the conversation's). */
  sendingLine: WhatsAppLine;
  message: TemplateReferenceMessage;
}

export interface TemplateFallbackSent {
  wamid: string;
  /** The template message that went out. */
  sent: TemplateMessage;
  /** The line it went out from. */
  phoneNumberId: string;
}

/**
 * Throws a classified ChannelSendError (retryable ones after recording the attempt as still pending), or a
 * retryable `send_in_doubt` ApplicationFailure while an earlier call of the attempt may have gone out.
 */
export async function sendWithTemplateFallback(
  deps: { whatsapp: WhatsAppClient; box: SecretBox; tenantFetch: typeof fetch },
  send: TemplateFallbackSend,
): Promise<TemplateFallbackSent> {
  const conn = send.em.getConnection();
  const params = send.message.params.length ? send.message.params : undefined;
  const load = () => conn.execute<AttemptRow[]>(`select ${attemptColumns} from message_attempts where message_id = ? order by attempt_no`, [send.messageId]);
  let all = await load();
  // A manual retry is a new round (messages.delivery_round): earlier rounds are history, and it starts again
  // from the group's first template.
  const [{ delivery_round: round }] = await conn.execute<Array<{ delivery_round: number }>>(`select delivery_round from messages where id = ?`, [send.messageId]);
  // Once the round reached its SMS step, only that step can finish it: the WhatsApp candidates are behind it.
  if (all.some((a) => a.round === round && a.channel === 'sms' && a.outcome !== 'failed')) {
    const bySms = await sendSmsFallback(deps, send);
    if (bySms) return bySms;
  }
  const ofRound = (rows: AttemptRow[]) => rows.filter((a) => a.round === round && a.channel === 'whatsapp');
  let attempts = ofRound(all);
  const inDoubt = attempts.find((a) => a.outcome === 'pending' && a.called_ms !== null);
  if (inDoubt && !attempts.some((a) => a.outcome === 'sent')) {
    const settled = await awaitProviderWord(inDoubt, {
      doubtMs: (a) => a.called_ms,
      settled: (a) => a.outcome !== 'pending',
      reload: async () =>
        (await conn.execute<AttemptRow[]>(`select ${attemptColumns} from message_attempts where message_id = ? and attempt_no = ?`, [send.messageId, inDoubt.attempt_no]))[0],
    });
    if (settled.outcome === 'pending' && stillInDoubt(settled.called_ms)) throw inDoubtFailure('template');
    all = await load();
    attempts = ofRound(all);
  }
  const succeeded = attempts.find((a) => a.outcome === 'sent');
  if (succeeded) {
    // The worker stopped after the provider accepted it and before the message row said so.
    const sent: TemplateMessage = { type: 'template', name: succeeded.template_name!, language: succeeded.template_language!, params };
    return { wamid: succeeded.provider_message_id!, sent, phoneNumberId: succeeded.phone_number_id };
  }

  const plan = await fallbackPlan(send.em, send.tenantId, send.sendingLine, send.message);
  const finished = new Set(attempts.filter((a) => a.outcome !== 'pending').map((a) => candidateKey(a.line_id, a.template_id)));
  const pending = attempts.find((a) => a.outcome === 'pending');
  let nextNo = all.reduce((n, a) => Math.max(n, a.attempt_no), 0) + 1;
  const lastFailed = attempts.findLast((a) => a.outcome === 'failed');
  let last: ChannelSendError | undefined = lastFailed
    ? new ChannelSendError({ errorClass: (lastFailed.error_class ?? 'definitive') as ChannelErrorClass, message: lastFailed.error_title ?? 'failed', code: lastFailed.error_code ?? undefined })
    : undefined;
  const unusable = new Set<string>();
  if (pending && !plan.some((c) => candidateKey(c.line.id, c.template.id) === candidateKey(pending.line_id, pending.template_id))) {
    // The group changed since that attempt began: it will not be taken up again.
    await conn.execute(`update message_attempts set outcome = 'skipped', finished_at = now() where message_id = ? and attempt_no = ? and outcome = 'pending'`, [
      send.messageId,
      pending.attempt_no,
    ]);
  }

  for (const candidate of plan) {
    const key = candidateKey(candidate.line.id, candidate.template.id);
    if (finished.has(key)) continue;
    const resumed = pending && candidateKey(pending.line_id, pending.template_id) === key;
    const attempt: AttemptKey = { messageId: send.messageId, attemptNo: resumed ? pending.attempt_no : nextNo++, round, tenantId: send.tenantId, candidate };
    const { line, template } = candidate;
    const skip = line.status !== 'active' || unusable.has(line.id);
    const started = skip
      ? await startAttempt(conn, attempt, 'skipped', `the line ${line.phoneNumberId} is ${unusable.has(line.id) ? 'needs_reauth' : line.status}`)
      : await startAttempt(conn, attempt, 'pending');
    // The attempt taken up (its grace over) was adopted by a status webhook since it was read: it went out after all.
    if (!started) return sendWithTemplateFallback(deps, send);
    if (skip) continue;
    const sent: TemplateMessage = { type: 'template', name: template.name, language: template.language, params };
    try {
      const answer = await deps.whatsapp.sendMessage({
        phoneNumberId: line.phoneNumberId,
        accessToken: decryptedAccessToken(line, deps.box),
        to: send.to,
        message: sent,
        idempotencyKey: `${send.messageId}/${attempt.attemptNo}`,
        beforeSend: () => markCalled(conn, attempt),
      });
      await endAttempt(conn, attempt, 'sent', { providerMessageId: answer.wamid });
      return { wamid: answer.wamid, sent, phoneNumberId: line.phoneNumberId };
    } catch (err) {
      if (!(err instanceof ChannelSendError)) throw err;
      await endAttempt(conn, attempt, err.retryable ? 'pending' : 'failed', { error: err });
      if (err.retryable) throw err;
      if (err.errorClass === 'credentials' || err.errorClass === 'account') {
        await markLineNeedsReauth(send.em, line.id);
        unusable.add(line.id);
      }
      last = err;
    }
  }
  const bySms = await sendSmsFallback(deps, send);
  if (bySms) return bySms;
  throw new ChannelSendError({
    errorClass: 'definitive',
    message: `No template could be sent (${plan.length} candidate${plan.length === 1 ? '' : 's'} tried)${last ? `; the last error: ${describe(last)}` : ''}`,
    code: last?.code,
  });
}
