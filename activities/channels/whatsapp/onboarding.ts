import { ChannelSendError } from '../../../core/channels/errors';
import { classifyGraphError, classifyNetworkError } from './errors';
import { graphRequest, type GraphOptions } from './graph-request';

/**
 * What connecting a WhatsApp Business Account (WABA) takes at Meta, as Embedded Signup's server side does it:
 * exchange the signup code for a business token (`GET /oauth/access_token`), see which WABAs it was granted
 * (`GET /debug_token`), list a WABA's phone numbers, register a number with the Cloud API, and subscribe the app
 * to the WABA's webhooks. Every failure is a classified ChannelSendError, like a send's.
 */

export interface AppCredentials {
  appId: string;
  appSecret: string;
}

/** A phone number of a WABA, as `GET /{waba-id}/phone_numbers` describes it. */
export interface WabaPhoneNumber {
  id: string;
  displayPhoneNumber: string;
  verifiedName?: string;
  /** VERIFIED, NOT_VERIFIED, EXPIRED */
  codeVerificationStatus?: string;
  /** CONNECTED once registered with the Cloud API; PENDING before. */
  status?: string;
  /** GREEN, YELLOW, RED, UNKNOWN */
  qualityRating?: string;
  /** CLOUD_API once registered; NOT_APPLICABLE before. */
  platformType?: string;
}

/** Whether the number can send through the Cloud API already, or must first be registered (with a PIN). */
export const isRegisteredWithCloudApi = (phone: WabaPhoneNumber): boolean => phone.status === 'CONNECTED' || phone.platformType === 'CLOUD_API';

export interface PhoneNumbersPage {
  phoneNumbers: WabaPhoneNumber[];
  /** The cursor of the next page; absent on the last page. */
  after?: string;
}

/** What `GET /debug_token` says of a token, as far as onboarding needs it. */
export interface TokenGrants {
  isValid: boolean;
  /** The WABAs the token may manage (granular scope whatsapp_business_management). */
  wabaIds: string[];
  /** Why the token is not valid, when it is not. */
  error?: string;
}

export interface WhatsAppOnboardingClient {
  exchangeCode(req: AppCredentials & { code: string }): Promise<{ accessToken: string }>;
  tokenGrants(req: AppCredentials & { inputToken: string }): Promise<TokenGrants>;
  listPhoneNumbers(req: { wabaId: string; accessToken: string; limit?: number; after?: string }): Promise<PhoneNumbersPage>;
  /** Registers the number with the Cloud API; `pin` becomes (or must match) its two-step verification PIN. */
  registerPhoneNumber(req: { phoneNumberId: string; accessToken: string; pin: string }): Promise<void>;
  subscribeApp(req: { wabaId: string; accessToken: string }): Promise<void>;
  unsubscribeApp(req: { wabaId: string; accessToken: string }): Promise<void>;
}

const phoneFields = 'id,display_phone_number,verified_name,code_verification_status,status,quality_rating,platform_type';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

function unreadable(what: string): ChannelSendError {
  return new ChannelSendError({ errorClass: 'transient', message: `Meta's Graph API answered ${what} without the expected fields` });
}

function toPhoneNumber(raw: unknown): WabaPhoneNumber | undefined {
  const p = (raw ?? {}) as Record<string, unknown>;
  const id = text(p.id);
  if (!id) return undefined;
  return {
    id,
    displayPhoneNumber: text(p.display_phone_number) ?? '',
    verifiedName: text(p.verified_name),
    codeVerificationStatus: text(p.code_verification_status),
    status: text(p.status),
    qualityRating: text(p.quality_rating),
    platformType: text(p.platform_type),
  };
}

export function createWhatsAppOnboardingClient(opts: GraphOptions): WhatsAppOnboardingClient {
  const request = graphRequest(opts);
  const doFetch = opts.fetch ?? fetch;
  const base = `${opts.graphUrl.replace(/\/+$/, '')}/${opts.apiVersion}`;
  // An app access token: what Graph takes from a server that speaks for the app itself (debug_token).
  const appToken = (c: AppCredentials) => `${c.appId}|${c.appSecret}`;

  return {
    async exchangeCode({ appId, appSecret, code }) {
      // The app authenticates with its id and secret in the query, as Meta documents it: no bearer token yet.
      const search = new URLSearchParams({ client_id: appId, client_secret: appSecret, code });
      let res: Response;
      let body: unknown;
      try {
        res = await doFetch(`${base}/oauth/access_token?${search}`, { signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
        const raw = await res.text();
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
      } catch (err) {
        throw classifyNetworkError(err);
      }
      if (!res.ok) throw classifyGraphError(res.status, body, res.headers.get('retry-after'));
      const accessToken = text((body as { access_token?: unknown } | undefined)?.access_token);
      if (!accessToken) throw unreadable('the code exchange');
      return { accessToken };
    },

    async tokenGrants(req) {
      const answer = (await request('GET', 'debug_token', appToken(req), { query: { input_token: req.inputToken } })) as { data?: Record<string, unknown> } | undefined;
      const data = answer?.data;
      if (!data || typeof data !== 'object') throw unreadable('debug_token');
      const scopes = Array.isArray(data.granular_scopes) ? (data.granular_scopes as Array<{ scope?: unknown; target_ids?: unknown }>) : [];
      const wabaIds = scopes
        .filter((s) => s.scope === 'whatsapp_business_management' && Array.isArray(s.target_ids))
        .flatMap((s) => (s.target_ids as unknown[]).map(text).filter((id): id is string => id !== undefined));
      const error = text((data.error as { message?: unknown } | undefined)?.message);
      return { isValid: data.is_valid === true, wabaIds: [...new Set(wabaIds)], ...(error ? { error } : {}) };
    },

    async listPhoneNumbers({ wabaId, accessToken, limit, after }) {
      const answer = (await request('GET', `${encodeURIComponent(wabaId)}/phone_numbers`, accessToken, {
        query: { fields: phoneFields, limit: limit === undefined ? undefined : String(limit), after },
      })) as { data?: unknown; paging?: { cursors?: { after?: unknown }; next?: unknown } } | undefined;
      if (!Array.isArray(answer?.data)) throw unreadable('a phone number list');
      const phoneNumbers = answer.data.map(toPhoneNumber).filter((p): p is WabaPhoneNumber => p !== undefined);
      // Graph gives cursors on every page; `next` only when there is another page.
      const nextCursor = answer.paging?.next ? text(answer.paging.cursors?.after) : undefined;
      return nextCursor ? { phoneNumbers, after: nextCursor } : { phoneNumbers };
    },

    async registerPhoneNumber({ phoneNumberId, accessToken, pin }) {
      await request('POST', `${encodeURIComponent(phoneNumberId)}/register`, accessToken, { body: { messaging_product: 'whatsapp', pin } });
    },

    async subscribeApp({ wabaId, accessToken }) {
      await request('POST', `${encodeURIComponent(wabaId)}/subscribed_apps`, accessToken);
    },

    async unsubscribeApp({ wabaId, accessToken }) {
      await request('DELETE', `${encodeURIComponent(wabaId)}/subscribed_apps`, accessToken);
    },
  };
}

/** Every phone number of the WABA, following the `after` cursors (at most `maxPages` pages). */
export async function listAllPhoneNumbers(
  client: WhatsAppOnboardingClient,
  req: { wabaId: string; accessToken: string; pageSize?: number; maxPages?: number },
): Promise<WabaPhoneNumber[]> {
  const all: WabaPhoneNumber[] = [];
  let after: string | undefined;
  for (let page = 0; page < (req.maxPages ?? 50); page++) {
    const result = await client.listPhoneNumbers({ wabaId: req.wabaId, accessToken: req.accessToken, limit: req.pageSize ?? 100, after });
    all.push(...result.phoneNumbers);
    if (!result.after) return all;
    after = result.after;
  }
  throw new ChannelSendError({ errorClass: 'definitive', message: `The WABA ${req.wabaId} lists more than ${all.length} phone numbers; stopped paging` });
}
