import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../../core/journey/activities';
import type { OutboundSend } from '../../core/journey/types';

const { sendMessage } = proxyActivities<Pick<JourneyActivities, 'sendMessage'>>({
  startToCloseTimeout: '30 seconds',
  // Transient and rate-limit errors are retried; a window, refusal or credentials error is not (non-retryable).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});

/**
 * Sends one message outside any journey step (an agent's reply). A workflow so that a transient channel
 * error is retried after the API has answered; the id `message/<idempotencyKey>` makes a repeated request
 * find this run instead of sending again.
 */
export async function deliverMessage(send: OutboundSend): Promise<{ messageId: string; providerMessageId: string | null }> {
  try {
    return await sendMessage(send);
  } catch (err) {
    // Surface the activity's own failure (its type says why: window_closed, channel_definitive, …) to the caller.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? 'send_failed', ...(err.cause.details ?? []));
    }
    throw err;
  }
}
