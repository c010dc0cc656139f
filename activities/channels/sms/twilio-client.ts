import { ChannelSendError, type ChannelErrorClass } from '../../../core/channels/errors';
import { refusalBehind } from '../../../core/net/outbound-guard';

/**
 * Twilio's Programmable Messaging REST API (2010-04-01), which many SMS providers also speak: a message is a
 * form-encoded POST to /Accounts/{AccountSid}/Messages.json with HTTP Basic auth (account SID and auth token);
 * the answer is the message resource in JSON, an error is {code, message, more_info, status}.
 */

export interface SmsAccount {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** The account chose the base URL: requests go through the installation's outbound policy (core/net/outbound-guard.ts). */
  fetch: typeof fetch;
}

export interface SmsSend extends SmsAccount {
  /** E.164, with the leading +. */
  to: string;
  /** A sender number, or a messaging service SID (Twilio then picks the number). */
  from: { number: string } | { messagingServiceSid: string };
  body: string;
  statusCallback?: string;
}

export interface SmsMessage {
  sid: string;
  status: string;
  to: string;
  from: string | null;
  body: string;
  messagingServiceSid: string | null;
  dateCreated: Date | null;
}

/** Twilio error codes and what they mean for the send. */
const classByCode: ReadonlyMap<number, ChannelErrorClass> = new Map([
  [20003, 'credentials'], // authentication failed
  [20404, 'definitive'], // resource not found (e.g. a wrong messaging service SID)
  [20429, 'rate_limited'], // too many requests
  [21211, 'definitive'], // invalid 'To' number
  [21408, 'definitive'], // permission to send to this region not enabled
  [21610, 'definitive'], // the recipient replied STOP
  [21612, 'definitive'], // the 'To' number cannot be reached from this sender
  [21614, 'definitive'], // 'To' is not a mobile number
  [30003, 'definitive'], // unreachable handset
  [30005, 'definitive'], // unknown or inactive destination
  [30006, 'definitive'], // landline or unreachable carrier
]);

export function classOfTwilioError(code: number | undefined, httpStatus: number): ChannelErrorClass {
  const known = code === undefined ? undefined : classByCode.get(code);
  if (known) return known;
  if (httpStatus >= 500) return 'transient';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 401 || httpStatus === 403) return 'credentials';
  return 'definitive';
}

const messagesUrl = (a: SmsAccount) => `${a.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(a.accountSid)}/Messages.json`;
const basicAuth = (a: SmsAccount) => `Basic ${Buffer.from(`${a.accountSid}:${a.authToken}`).toString('base64')}`;

interface WireMessage {
  sid?: unknown;
  status?: unknown;
  to?: unknown;
  from?: unknown;
  body?: unknown;
  messaging_service_sid?: unknown;
  date_created?: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function parseMessage(m: WireMessage): SmsMessage {
  const created = str(m.date_created);
  return {
    sid: str(m.sid) ?? '',
    status: str(m.status) ?? 'queued',
    to: str(m.to) ?? '',
    from: str(m.from),
    body: str(m.body) ?? '',
    messagingServiceSid: str(m.messaging_service_sid),
    dateCreated: created ? new Date(created) : null,
  };
}

async function call(fetchFn: typeof fetch, url: string, init: RequestInit & { timeoutMs?: number }, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchFn(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 15_000) });
  } catch (err) {
    const refused = refusalBehind(err);
    if (refused) throw new ChannelSendError({ errorClass: 'definitive', message: `${what}: ${refused.message}` }, { cause: err });
    // A timeout or a reset connection: the request may have reached the provider.
    throw new ChannelSendError({ errorClass: 'transient', message: `${what}: ${(err as Error).message}`, maybeSent: init.method === 'POST' }, { cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok && body && typeof body === 'object') return body;
  const e = (body ?? {}) as { code?: unknown; message?: unknown; more_info?: unknown };
  const code = typeof e.code === 'number' ? e.code : undefined;
  const retryAfter = Number(res.headers.get('retry-after'));
  throw new ChannelSendError({
    errorClass: res.ok ? 'transient' : classOfTwilioError(code, res.status),
    message: `${what}: ${typeof e.message === 'string' ? e.message : `HTTP ${res.status}`}`,
    code,
    httpStatus: res.status,
    details: typeof e.more_info === 'string' ? e.more_info : undefined,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  });
}

/** Sends one SMS; throws a classified ChannelSendError. */
export async function sendSms(s: SmsSend): Promise<SmsMessage> {
  const form = new URLSearchParams({ To: s.to, Body: s.body });
  if ('number' in s.from) form.set('From', s.from.number);
  else form.set('MessagingServiceSid', s.from.messagingServiceSid);
  if (s.statusCallback) form.set('StatusCallback', s.statusCallback);
  const answer = await call(
    s.fetch,
    messagesUrl(s),
    { method: 'POST', headers: { authorization: basicAuth(s), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
    'SMS send',
  );
  const message = parseMessage(answer as WireMessage);
  if (!message.sid) throw new ChannelSendError({ errorClass: 'transient', message: 'SMS send: the provider answered without a message sid', maybeSent: true });
  return message;
}

/**
 * The most recent messages to a number (newest first), from one sender number when given. Used to find out
 * whether a send whose answer was lost went out. Not filtered by DateSent: a message still queued at the
 * provider has no date_sent yet, and it is exactly the one a lost answer leaves behind.
 */
export async function recentSmsTo(a: SmsAccount & { to: string; from?: string; pageSize?: number }): Promise<SmsMessage[]> {
  const query = new URLSearchParams({ To: a.to, PageSize: String(a.pageSize ?? 50) });
  if (a.from) query.set('From', a.from);
  const answer = (await call(a.fetch, `${messagesUrl(a)}?${query}`, { method: 'GET', headers: { authorization: basicAuth(a), accept: 'application/json' } }, 'SMS lookup')) as {
    messages?: unknown;
  };
  return Array.isArray(answer.messages) ? answer.messages.map((m) => parseMessage(m as WireMessage)) : [];
}
