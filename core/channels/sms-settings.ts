import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/secret-box';
import { AppError, notFound } from '../errors';

/**
 * A tenant's SMS provider (table `sms_settings`, one row per tenant): the credentials of Twilio's
 * Programmable Messaging API, or of any provider that speaks it at another base URL, and whether the
 * fallback engine may send an SMS when no WhatsApp template could be sent. The auth token is sealed; only its
 * last four characters are kept in clear, for display.
 */

export const twilioBaseUrl = 'https://api.twilio.com';

export interface SmsSettings {
  tenantId: string;
  provider: 'twilio';
  accountSid: string;
  /** Masked: `****` and the last four characters, when the token is long enough to spare them. */
  authTokenMasked: string;
  fromNumber: string | null;
  messagingServiceSid: string | null;
  baseUrl: string;
  /** Where the provider posts delivery statuses; null: no status callbacks (the message stays `sent`). */
  statusCallbackUrl: string | null;
  fallbackEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What the send needs: the settings with the token in clear. Never log it. */
export interface SmsCredentials extends SmsSettings {
  authToken: string;
}

export interface SmsSettingsChanges {
  accountSid?: string;
  authToken?: string;
  fromNumber?: string | null;
  messagingServiceSid?: string | null;
  baseUrl?: string;
  statusCallbackUrl?: string | null;
  fallbackEnabled?: boolean;
}

interface Row {
  tenant_id: string;
  provider: 'twilio';
  account_sid: string;
  auth_token_sealed: string;
  auth_token_hint: string;
  from_number: string | null;
  messaging_service_sid: string | null;
  base_url: string;
  status_callback_url: string | null;
  fallback_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const tokenContext = (tenantId: string) => `sms_settings.auth_token:${tenantId}`;
const tokenHint = (token: string) => (token.length >= 12 ? token.slice(-4) : '');

const present = (r: Row): SmsSettings => ({
  tenantId: r.tenant_id,
  provider: r.provider,
  accountSid: r.account_sid,
  authTokenMasked: `****${r.auth_token_hint}`,
  fromNumber: r.from_number,
  messagingServiceSid: r.messaging_service_sid,
  baseUrl: r.base_url,
  statusCallbackUrl: r.status_callback_url,
  fallbackEnabled: r.fallback_enabled,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

async function row(em: EntityManager, tenantId: string): Promise<Row | undefined> {
  const [r] = await em.getConnection().execute<Row[]>(`select * from sms_settings where tenant_id = ?`, [tenantId]);
  return r;
}

export async function findSmsSettings(em: EntityManager, tenantId: string): Promise<SmsSettings | null> {
  const r = await row(em, tenantId);
  return r ? present(r) : null;
}

export async function smsCredentials(em: EntityManager, box: SecretBox, tenantId: string): Promise<SmsCredentials | null> {
  const r = await row(em, tenantId);
  return r ? { ...present(r), authToken: box.open(r.auth_token_sealed, tokenContext(tenantId)) } : null;
}

/**
 * Creates or changes the tenant's settings. A first save needs the account SID, the auth token and a sender
 * (a from number or a messaging service SID); later saves change only what they give.
 */
export async function saveSmsSettings(em: EntityManager, box: SecretBox, tenantId: string, changes: SmsSettingsChanges): Promise<{ settings: SmsSettings; created: boolean }> {
  const current = await row(em, tenantId);
  const merged = {
    accountSid: changes.accountSid ?? current?.account_sid,
    fromNumber: changes.fromNumber !== undefined ? changes.fromNumber : (current?.from_number ?? null),
    messagingServiceSid: changes.messagingServiceSid !== undefined ? changes.messagingServiceSid : (current?.messaging_service_sid ?? null),
    baseUrl: changes.baseUrl ?? current?.base_url ?? twilioBaseUrl,
    statusCallbackUrl: changes.statusCallbackUrl !== undefined ? changes.statusCallbackUrl : (current?.status_callback_url ?? null),
    fallbackEnabled: changes.fallbackEnabled ?? current?.fallback_enabled ?? false,
  };
  const missing = [
    !merged.accountSid && 'accountSid: required for a first save',
    !current && !changes.authToken && 'authToken: required for a first save',
    !merged.fromNumber && !merged.messagingServiceSid && 'from: give a from number or a messagingServiceSid',
  ].filter(Boolean);
  if (missing.length) throw new AppError('invalid', `Invalid body: ${missing.join('; ')}`);
  const sealed = changes.authToken ? box.seal(changes.authToken, tokenContext(tenantId)) : current!.auth_token_sealed;
  const hint = changes.authToken ? tokenHint(changes.authToken) : current!.auth_token_hint;
  const [saved] = await em.getConnection().execute<Row[]>(
    `insert into sms_settings (tenant_id, account_sid, auth_token_sealed, auth_token_hint, from_number, messaging_service_sid, base_url, status_callback_url, fallback_enabled)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (tenant_id) do update set account_sid = excluded.account_sid, auth_token_sealed = excluded.auth_token_sealed,
       auth_token_hint = excluded.auth_token_hint, from_number = excluded.from_number, messaging_service_sid = excluded.messaging_service_sid,
       base_url = excluded.base_url, status_callback_url = excluded.status_callback_url, fallback_enabled = excluded.fallback_enabled, updated_at = now()
     returning *`,
    [tenantId, merged.accountSid, sealed, hint, merged.fromNumber, merged.messagingServiceSid, merged.baseUrl, merged.statusCallbackUrl, merged.fallbackEnabled],
  );
  return { settings: present(saved), created: !current };
}

export async function deleteSmsSettings(em: EntityManager, tenantId: string): Promise<void> {
  const deleted = await em.getConnection().execute<Array<{ tenant_id: string }>>(`delete from sms_settings where tenant_id = ? returning tenant_id`, [tenantId]);
  if (!deleted.length) throw notFound('SMS settings');
}
