import { ChannelSendError, type ChannelErrorClass } from '../../../core/channels/errors';

/**
 * Graph error codes of the Cloud API and what we do about each (see shared/research/whatsapp-cloud-api.md).
 * Meta advises building error handling on `code`, not on HTTP status, subcode or message text.
 */
const classByCode: ReadonlyMap<number, ChannelErrorClass> = new Map([
  [1, 'transient'], // API unknown
  [2, 'transient'], // API service: temporary downtime or overload
  [4, 'rate_limited'], // app-level API call rate limit
  [80007, 'rate_limited'], // WhatsApp Business Account rate limit
  [130429, 'rate_limited'], // throughput of the phone number reached
  [131016, 'transient'], // service unavailable
  [131056, 'rate_limited'], // pair rate: too many messages to the same recipient
  [131057, 'transient'], // account in maintenance mode
  [131047, 'window_closed'], // re-engagement: more than 24 h since the customer last wrote
  [131026, 'definitive'], // undeliverable
  [131050, 'definitive'], // the recipient stopped marketing messages
  [131049, 'definitive'], // not delivered to keep the ecosystem healthy: not now, maybe later
  [132000, 'definitive'], // template parameter count mismatch
  [132001, 'definitive'], // template does not exist in this language
  [132012, 'definitive'], // template parameter format mismatch
  [100, 'definitive'], // invalid parameter
  [190, 'credentials'], // access token expired or invalid
  [10, 'credentials'], // permission denied
  [368, 'account'], // temporarily blocked for policy violations
  [131031, 'account'], // business account locked
]);

/** How long to wait before retrying, by code, when the answer carries no Retry-After. */
const retryHintMsByCode: ReadonlyMap<number, number> = new Map([
  [130429, 1_000], // throughput is counted per second
  [131056, 6_000], // about one message every 6 s to the same recipient
  [4, 60_000],
  [80007, 60_000],
]);

/**
 * The class of a Graph error code. Codes 200–299 are all permission errors. Without a known code the HTTP
 * status decides: 5xx is transient, 429 is rate-limited, 401 is credentials, any other 4xx is definitive.
 */
export function classOfGraphCode(code: number | undefined, httpStatus?: number): ChannelErrorClass {
  const known = code === undefined ? undefined : classByCode.get(code);
  if (known) return known;
  if (code !== undefined && code >= 200 && code <= 299) return 'credentials';
  if (httpStatus === undefined || httpStatus >= 500) return 'transient';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 401) return 'credentials';
  return 'definitive';
}

interface GraphErrorBody {
  message?: unknown;
  code?: unknown;
  error_subcode?: unknown;
  error_data?: { details?: unknown };
  /** Management endpoints (templates) explain validation errors here rather than in error_data. */
  error_user_msg?: unknown;
  fbtrace_id?: unknown;
}

const asNumber = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const asString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Retry-After in seconds or as an HTTP date. */
function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Turns a non-2xx Graph answer into a classified error. `body` is the parsed JSON (or the text, or
 * undefined when there was none); Meta's shape is `{error: {message, type, code, error_subcode,
 * error_data: {details}, fbtrace_id}}`.
 */
export function classifyGraphError(httpStatus: number, body: unknown, retryAfterHeader?: string | null): ChannelSendError {
  const error: GraphErrorBody =
    body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object' ? (body.error as GraphErrorBody) : {};
  const code = asNumber(error.code);
  const errorClass = classOfGraphCode(code, httpStatus);
  const retryAfterMs = parseRetryAfter(retryAfterHeader) ?? (code === undefined ? undefined : retryHintMsByCode.get(code));
  return new ChannelSendError({
    errorClass,
    message: asString(error.message) ?? `WhatsApp Cloud API answered HTTP ${httpStatus}`,
    code,
    subcode: asNumber(error.error_subcode),
    httpStatus,
    details: asString(error.error_data?.details) ?? asString(error.error_user_msg),
    retryAfterMs: errorClass === 'transient' || errorClass === 'rate_limited' ? retryAfterMs : undefined,
    fbtraceId: asString(error.fbtrace_id),
  });
}

/** Errors before an answer: a refused connection never reached Meta; a timeout or reset may have. */
export function classifyNetworkError(err: unknown): ChannelSendError {
  // Duck-typed: fetch's errors (TypeError, DOMException) may come from another realm than this module's Error.
  const e = (err ?? {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown } };
  const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(String(e.cause?.code));
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
  const reason = timedOut ? 'timed out' : `failed: ${String(e.cause?.code ?? e.message ?? err)}`;
  return new ChannelSendError({ errorClass: 'transient', message: `WhatsApp Cloud API request ${reason}`, maybeSent: !neverSent }, { cause: err });
}
