import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';

/**
 * A send in doubt: an earlier attempt made the provider call and nobody stored its outcome (its worker died,
 * or the request timed out), so it may have gone out, and the Cloud API has no idempotency key to ask. The
 * provider's status webhook settles it (workers/handlers/whatsapp-status.ts gives a status for an unknown
 * message id to the contact's one send in flight, adoptUnknownStatus); until then, or until the grace period
 * is over, the send is not made again. Plain sends (send-message.ts) and the fallback engine's attempts
 * (templates.ts) both wait this way.
 */

/** How long a send whose outcome a crash hid waits for the provider's word before it is sent again. */
export const IN_DOUBT_GRACE_MS = 60_000;
/** How long one activity attempt looks for that word before handing back to Temporal's retry. */
export const IN_DOUBT_WAIT_MS = 15_000;

/**
 * Re-reads the send (at most IN_DOUBT_WAIT_MS, and not past the grace period) until `settled` says the
 * provider's word came; returns it as it then is. `doubtMs` is how long ago its call left, null when none is
 * in doubt.
 */
export async function awaitProviderWord<T>(first: T, s: { doubtMs(row: T): number | null; settled(row: T): boolean; reload(): Promise<T> }): Promise<T> {
  const until = Date.now() + Math.min(IN_DOUBT_WAIT_MS, IN_DOUBT_GRACE_MS - (s.doubtMs(first) ?? 0));
  for (let current = first; ; ) {
    const doubt = s.doubtMs(current);
    const graceOver = doubt === null || doubt >= IN_DOUBT_GRACE_MS;
    if (s.settled(current) || graceOver || Date.now() >= until) return current;
    await sleep(500);
    current = await s.reload();
  }
}

/** Whether a send that waited is still in doubt within its grace period: then it must not be made again yet. */
export const stillInDoubt = (doubtMs: number | null): boolean => doubtMs !== null && doubtMs < IN_DOUBT_GRACE_MS;

/** Temporal retries the activity a second later, which waits for the provider's word again. */
export const inDoubtFailure = (what: string): ApplicationFailure =>
  ApplicationFailure.create({
    type: 'send_in_doubt',
    message: `An earlier attempt may have sent this ${what}: waiting for the provider to say so before sending again`,
    nextRetryDelay: 1_000,
  });
