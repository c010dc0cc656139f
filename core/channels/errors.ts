import { ApplicationFailure } from '@temporalio/common';

/**
 * How a failed send should be handled, whatever the channel:
 * - transient: retry the same send with backoff;
 * - rate_limited: retry later and slow the line down (retryAfterMs is a hint);
 * - window_closed: the customer-service window is over; send an approved template instead;
 * - definitive: this message will never go through as it is; run the fallback engine;
 * - credentials: the line's token is invalid or lacks permission; mark it for re-auth and stop sending;
 * - account: the provider blocked or locked the account; stop the line and alert.
 */
export type ChannelErrorClass = 'transient' | 'rate_limited' | 'window_closed' | 'definitive' | 'credentials' | 'account';

export const retryableClasses: readonly ChannelErrorClass[] = ['transient', 'rate_limited'];

/** A provider's error, as plain data (what Temporal carries, what a status webhook reports). */
export interface ChannelErrorInfo {
  errorClass: ChannelErrorClass;
  message: string;
  /** The provider's error code (WhatsApp: Graph `error.code`). */
  code?: number;
  subcode?: number;
  httpStatus?: number;
  /** The provider's explanation (WhatsApp: `error_data.details`). */
  details?: string;
  /** A hint for when to try again, from a Retry-After header or the error's kind. */
  retryAfterMs?: number;
  /** Meta's trace id, for support requests. */
  fbtraceId?: string;
  /** The request may have reached the provider (timeout, reset connection): a retry may send twice. */
  maybeSent?: boolean;
}

/** A send that was told not to wait long, refused before it took a slot because its line is backed up. */
export class LineBusyError extends Error {
  constructor(readonly waitMs: number) {
    super(`The line's next free slot is ${Math.round(waitMs)} ms away`);
    this.name = 'LineBusyError';
  }
}

export class ChannelSendError extends Error {
  readonly errorClass: ChannelErrorClass;
  readonly code?: number;
  readonly subcode?: number;
  readonly httpStatus?: number;
  readonly details?: string;
  readonly retryAfterMs?: number;
  readonly fbtraceId?: string;
  readonly maybeSent?: boolean;

  constructor(info: ChannelErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'ChannelSendError';
    this.errorClass = info.errorClass;
    this.code = info.code;
    this.subcode = info.subcode;
    this.httpStatus = info.httpStatus;
    this.details = info.details;
    this.retryAfterMs = info.retryAfterMs;
    this.fbtraceId = info.fbtraceId;
    this.maybeSent = info.maybeSent;
  }

  get retryable(): boolean {
    return retryableClasses.includes(this.errorClass);
  }

  toInfo(): ChannelErrorInfo {
    const { errorClass, message, code, subcode, httpStatus, details, retryAfterMs, fbtraceId, maybeSent } = this;
    return Object.fromEntries(
      Object.entries({ errorClass, message, code, subcode, httpStatus, details, retryAfterMs, fbtraceId, maybeSent }).filter(([, v]) => v !== undefined),
    ) as unknown as ChannelErrorInfo;
  }
}

/** The Temporal failure type a send activity throws, so workflows can tell channel errors apart. */
export const channelFailureType = 'ChannelSendError';

/**
 * For send activities: the failure Temporal records. Only transient and rate-limited errors are retried
 * by Temporal (after the provider's hint when there is one); the others go straight back to the workflow.
 */
export function toActivityFailure(err: ChannelSendError): ApplicationFailure {
  return ApplicationFailure.create({
    type: channelFailureType,
    message: err.message,
    nonRetryable: !err.retryable,
    details: [err.toInfo()],
    nextRetryDelay: err.retryAfterMs,
    cause: err,
  });
}

/** For workflows: the channel error inside a failed activity (it is the failure's cause), if it is one. */
export function channelErrorOf(err: unknown): ChannelErrorInfo | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure && e.type === channelFailureType) return e.details?.[0] as ChannelErrorInfo | undefined;
  }
  return undefined;
}
