import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import {
  deliveryStatusSignalName,
  fallbackMayHelp,
  REDELIVER_MAX_TRIES,
  type DeliveryActivities,
  type DeliveryStatusEvent,
  type FollowDeliveryInput,
  type FollowResult,
} from '../../core/delivery/types';

/** Sent by the status webhook handler (workers/handlers/whatsapp-status.ts): the followed message's final statuses. */
export const deliveryStatusSignal = defineSignal<[DeliveryStatusEvent]>(deliveryStatusSignalName);

const act = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '2 minutes',
  // Transient and rate-limit errors are retried (the sends are idempotent); definitive ones come back as results.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: REDELIVER_MAX_TRIES },
});

/**
 * Follows one send round of a message (`delivery/{messageId}/{round}`) through its status webhooks until
 * delivered or read (done), or failed. A late `failed` with a definitive error (131026 undeliverable, …) of a
 * template send by id or group runs the fallback engine on from the next candidate (the next template of the
 * group, then the group's other line), each attempt recorded, and follows the new send. Nothing heard within
 * `followForMs`: the message is marked stale and the workflow ends.
 *
 * Started by such a late `failed` status (signal-with-start from the status webhook handler), or by a manual
 * retry, which first sends the message again as a new round through the same idempotent send path. A message
 * that needs neither has no workflow: one per message (measured on the dev server) costs about 17 ms of CPU
 * between Temporal and the worker, tops out near 60 messages/s (below one line's 80), and at three lines of
 * 80/s nearly halved the campaigns' pace and put status ingest five times further behind — for statuses that
 * need nothing but the row update the handler makes.
 */
export async function followDelivery(input: FollowDeliveryInput): Promise<FollowResult> {
  const events: DeliveryStatusEvent[] = [];
  setHandler(deliveryStatusSignal, (e) => void events.push(e));
  let fallbacks = 0;
  // The wamid being followed: statuses of a send the fallback replaced are stale news.
  let current: string | undefined;

  if (input.retry) {
    const sent = await act.redeliver({
      tenantId: input.tenantId,
      messageId: input.messageId,
      round: input.round,
      requestedBy: input.retry.requestedBy,
      followForMs: input.followForMs,
    });
    if (sent.outcome !== 'sent') return { outcome: sent.outcome, detail: sent.detail, fallbacks };
    current = sent.providerMessageId;
  }

  const nextStatus = () => events.findIndex((e) => current === undefined || e.providerMessageId === current);
  for (;;) {
    if (!(await condition(() => nextStatus() >= 0, input.followForMs))) {
      await act.markDeliveryStale({ messageId: input.messageId, providerMessageId: current });
      return { outcome: 'stale', providerMessageId: current, fallbacks };
    }
    const [event] = events.splice(nextStatus(), 1);
    current = event.providerMessageId;
    if (event.status === 'delivered' || event.status === 'read') return { outcome: event.status, providerMessageId: current, fallbacks };
    if (!fallbackMayHelp(event)) return { outcome: 'failed', providerMessageId: current, detail: event.errorTitle, fallbacks };
    const next = await act.continueAfterLateFailure({
      messageId: input.messageId,
      failedProviderMessageId: event.providerMessageId,
      errorCode: event.errorCode,
      errorTitle: event.errorTitle,
      followForMs: input.followForMs,
    });
    if (!next.providerMessageId) return { outcome: 'failed', providerMessageId: current, detail: next.detail ?? event.errorTitle, fallbacks };
    fallbacks++;
    current = next.providerMessageId;
  }
}
