/**
 * What crosses the boundary between the status webhook handler, the API, the delivery workflow and its
 * activities. Types and plain constants only, so the workflow can import it.
 */
import type { ChannelErrorClass } from '../channels/errors';

/** Defaults of the DELIVERY_* settings (core/config.ts). */
export const DEFAULT_STALE_AFTER_MINUTES = 15;
export const DEFAULT_FOLLOW_HOURS = 24;

export interface DeliverySettings {
  /** A message with no status (sent, no delivered/read/failed; or queued, no answer) for this long is stale. */
  staleAfterMinutes: number;
  /** How long the delivery workflow waits for a final status before it marks the message stale and ends. */
  followForMs: number;
}

/** Tries of a manual retry's send (transient errors, with backoff) before it counts as failed. */
export const REDELIVER_MAX_TRIES = 8;

export const defaultDeliverySettings: DeliverySettings = {
  staleAfterMinutes: DEFAULT_STALE_AFTER_MINUTES,
  followForMs: DEFAULT_FOLLOW_HOURS * 3600_000,
};

/**
 * At most one delivery workflow per send round of a message: `delivery/{messageId}/{round}`. Round 0 is the
 * original send, each manual retry the next round, so a retry request repeated finds its workflow instead of
 * sending again.
 */
export const followDeliveryWorkflowId = (messageId: string, round: number): string => `delivery/${messageId}/${round}`;

/**
 * The signal the status webhook handler sends the delivery workflow: `failed` of a template send by id or
 * group (which starts the workflow), and every final status of a message the workflow follows.
 */
export const deliveryStatusSignalName = 'status';

export interface DeliveryStatusEvent {
  status: 'delivered' | 'read' | 'failed';
  /** The wamid the status is about (a fallback send has a new one). */
  providerMessageId: string;
  errorCode?: number;
  errorTitle?: string;
  /** For `failed`: the error's class, as a synchronous send error would be classified. */
  errorClass?: ChannelErrorClass;
}

/**
 * Whether another template or line may get a late-failed message through: a definitive error, except the
 * recipient's own refusal of marketing (131050), which no other template changes, and Meta's "not now"
 * (131049), which another send right away would only repeat.
 */
export const fallbackMayHelp = (e: Pick<DeliveryStatusEvent, 'errorClass' | 'errorCode'>): boolean =>
  e.errorClass === 'definitive' && e.errorCode !== 131050 && e.errorCode !== 131049;

export interface FollowDeliveryInput {
  tenantId: string;
  messageId: string;
  round: number;
  followForMs: number;
  /** A manual retry: the workflow first sends the message again (a new round), then follows it. */
  retry?: { requestedBy: string | null };
}

export type FollowOutcome = 'delivered' | 'read' | 'failed' | 'stale' | 'refused';

export interface FollowResult {
  outcome: FollowOutcome;
  /** The wamid of the last send followed. */
  providerMessageId?: string;
  /** Why a retry was refused or failed. */
  detail?: string;
  /** Fallback sends made after a late `failed` status. */
  fallbacks: number;
}

export interface RedeliverResult {
  outcome: 'sent' | 'failed' | 'refused';
  providerMessageId?: string;
  detail?: string;
}

export interface DeliveryActivities {
  /**
   * A manual retry: reopens the message for `round` (once) and sends it through the idempotent send path; its
   * statuses are passed on to the workflow for `followForMs`.
   */
  redeliver(input: { tenantId: string; messageId: string; round: number; requestedBy: string | null; followForMs: number }): Promise<RedeliverResult>;
  /**
   * A late `failed` status with a definitive error: records it on the attempt, then runs the fallback engine
   * on from the next candidate (template sends by id or group only). The new wamid, or null when nothing more
   * can be sent. The new send's statuses are passed on to the workflow for `followForMs`.
   */
  continueAfterLateFailure(input: {
    messageId: string;
    failedProviderMessageId: string;
    errorCode?: number;
    errorTitle?: string;
    followForMs: number;
  }): Promise<{ providerMessageId: string | null; detail?: string }>;
  /** The workflow stopped waiting for a status. */
  markDeliveryStale(input: { messageId: string; providerMessageId?: string }): Promise<void>;
}
