import type { EntityManager } from '@mikro-orm/postgresql';
import { parseAttemptKey } from './fallback';

/**
 * A status callback of an SMS sent by the fallback engine (Twilio's MessageStatus): it moves the SMS attempt
 * and its message row on. Found by the attempt key of the callback URL, so a callback that arrives before the
 * send's answer was stored (or for a send whose answer was lost) still finds its attempt and records the
 * provider's message id on it; else by the message id. Idempotent: the provider repeats callbacks.
 */

export interface SmsAttemptRef {
  tenantId: string;
  messageId: string;
  attemptNo: number;
  providerMessageId: string | null;
}

export interface SmsStatus {
  messageSid: string;
  status: string;
  errorCode?: number;
}

export async function findSmsAttempt(em: EntityManager, attemptKey: string | undefined, messageSid: string): Promise<SmsAttemptRef | undefined> {
  const key = parseAttemptKey(attemptKey);
  const [a] = await em.getConnection().execute<Array<{ tenant_id: string; message_id: string; attempt_no: number; provider_message_id: string | null }>>(
    key
      ? `select tenant_id, message_id, attempt_no, provider_message_id from message_attempts where message_id = ? and attempt_no = ? and channel = 'sms'`
      : `select tenant_id, message_id, attempt_no, provider_message_id from message_attempts where provider_message_id = ? and channel = 'sms'`,
    key ? [key.messageId, key.attemptNo] : [messageSid],
  );
  if (!a || (a.provider_message_id && a.provider_message_id !== messageSid)) return undefined;
  return { tenantId: a.tenant_id, messageId: a.message_id, attemptNo: a.attempt_no, providerMessageId: a.provider_message_id };
}

const failedStatuses = new Set(['failed', 'undelivered']);

export async function applySmsStatus(em: EntityManager, attempt: SmsAttemptRef, s: SmsStatus): Promise<void> {
  const conn = em.getConnection();
  const failed = failedStatuses.has(s.status);
  const title = failed ? `The SMS was ${s.status}${s.errorCode ? ` (error ${s.errorCode})` : ''}` : null;
  await conn.execute(
    `update message_attempts set provider_message_id = ?,
       outcome = case when ? then 'failed' when outcome in ('pending', 'skipped') then 'sent' else outcome end,
       error_class = case when ? then 'definitive' else error_class end, error_code = coalesce(?, error_code), error_title = coalesce(?, error_title),
       finished_at = coalesce(finished_at, now())
     where message_id = ? and attempt_no = ?`,
    [s.messageSid, failed, failed, s.errorCode ?? null, title, attempt.messageId, attempt.attemptNo],
  );
  // The row may not have the SMS's id yet: the callback can arrive before the send's answer is stored.
  const mine = `id = ? and (provider_message_id = ? or provider_message_id is null)`;
  if (failed) {
    await conn.execute(`update messages set status = 'failed', error_code = ?, error_title = ?, failed_at = coalesce(failed_at, now()), updated_at = now() where ${mine}`, [
      s.errorCode ?? 0,
      title,
      attempt.messageId,
      s.messageSid,
    ]);
  } else if (s.status === 'delivered') {
    await conn.execute(
      `update messages set status = case when status = 'read' then status else 'delivered' end, sent_at = coalesce(sent_at, now()),
         delivered_at = coalesce(delivered_at, now()), updated_at = now() where ${mine} and status <> 'failed'`,
      [attempt.messageId, s.messageSid],
    );
  } else if (s.status === 'sent') {
    await conn.execute(`update messages set status = 'sent', sent_at = coalesce(sent_at, now()), updated_at = now() where ${mine} and status = 'queued'`, [
      attempt.messageId,
      s.messageSid,
    ]);
  }
}
