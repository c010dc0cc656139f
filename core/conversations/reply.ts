import { WorkflowFailedError, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { deliverMessage } from '../../workflows/delivery/deliver-message';
import { channelErrorOf } from '../channels/errors';
import type { Conversation } from '../db/entities';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { OutboundMessage, OutboundSend } from '../journey/types';
import { contactSearchAttributes } from '../journey/signal';
import { deliveryWorkflowId } from '../temporal/workflow-ids';
import type { TemporalHandle } from '../temporal/connect';
import { journeyKeyOf } from './assignment';
import { windowOpen } from './store';

export const WINDOW_CLOSED_MESSAGE = 'The 24-hour window is closed: send an approved template instead';

export type ReplyOutcome =
  | { queued: false; messageId: string; providerMessageId: string | null; idempotencyKey: string }
  | { queued: true; idempotencyKey: string };

const START_TIMEOUT_MS = 5000;

/**
 * An agent's (or integrator's) message to the customer. The API never calls the channel itself: it starts
 * the `deliverMessage` workflow and waits for it up to `waitMs`; a send still retrying after that goes on in
 * the background and the caller is told it is queued. The idempotency key (the caller's, or a fresh one)
 * names the workflow and the message row, so repeating a request with the same key never sends twice and
 * answers with the first request's outcome.
 */
export async function sendReply(
  temporal: TemporalHandle,
  input: { conversation: Conversation; message: OutboundMessage; sentBy: string; idempotencyKey?: string; waitMs: number },
): Promise<ReplyOutcome> {
  const { conversation, message } = input;
  if (message.type !== 'template' && !windowOpen(conversation.lastCustomerMessageAt ?? null)) throw new AppError('invalid', WINDOW_CLOSED_MESSAGE);
  const idempotencyKey = input.idempotencyKey ?? newId();
  const key = journeyKeyOf(conversation);
  // Scoped to the conversation: a caller's key must never reach another conversation's (or tenant's) message.
  const send: OutboundSend = { key, idempotencyKey: `reply/${conversation.id}/${idempotencyKey}`, sentBy: input.sentBy, message };
  const workflowId = deliveryWorkflowId(send.idempotencyKey);

  let handle: WorkflowHandle<typeof deliverMessage>;
  try {
    handle = await temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      temporal.client.workflow.start<typeof deliverMessage>('deliverMessage', {
        workflowId,
        taskQueue: temporal.taskQueue,
        args: [send],
        // A repeated key joins the running delivery, or reads the outcome of the finished one.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: contactSearchAttributes(key),
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      throw new AppError('unavailable', 'Cannot send the message right now: the workflow service is unavailable; nothing was sent, try again shortly');
    }
    handle = temporal.client.workflow.getHandle<typeof deliverMessage>(workflowId);
  }

  if (input.waitMs <= 0) return { queued: true, idempotencyKey };
  try {
    const sent = await temporal.connection.withDeadline(Date.now() + input.waitMs, () => handle.result());
    return { queued: false, ...sent, idempotencyKey };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) return { queued: true, idempotencyKey }; // still sending (or Temporal slow): it goes on
    // The send's own checks fail with a typed ApplicationFailure; a provider's refusal carries its classified error.
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    if (cause?.type === 'window_closed' || channelErrorOf(err)?.errorClass === 'window_closed') throw new AppError('invalid', WINDOW_CLOSED_MESSAGE);
    if (cause?.type === 'invalid_message') throw new AppError('invalid', cause.message);
    throw new AppError('upstream', `The message could not be sent: ${cause?.message ?? err.cause?.message ?? err.message}`);
  }
}
