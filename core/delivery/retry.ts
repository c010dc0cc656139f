import type { EntityManager } from '@mikro-orm/postgresql';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { AppError } from '../errors';
import { contactSearchAttributes } from '../journey/signal';
import type { JourneyKey } from '../journey/types';
import type { TemporalHandle } from '../temporal/connect';
import { findMessage, findMessages, retryRefusal, type MessageRow, type MonitorFilter, type RetryRefusalReason } from './monitor';
import { followDeliveryWorkflowId, type FollowDeliveryInput } from './types';

/**
 * Manual retries (POST /api/monitor/delivery): of one message, or of the failed or stale messages a filter
 * matches. Each one taken becomes the next send round of the same message, run by its delivery workflow
 * `delivery/{messageId}/{round}`, which sends it through the idempotent send path and follows it. The round is
 * read from the row, so a request repeated before the first one's workflow ran finds that workflow (and does
 * not send twice); once it ran, the message is queued (being sent) or accepted, and refused as such.
 */

const START_TIMEOUT_MS = 5000;
/** Workflows started at once for a filtered retry. */
const START_CONCURRENCY = 8;

export interface RetryRequest {
  /** Undefined: the administrator, for every tenant. */
  tenantId?: string;
  requestedBy: string;
  messageId?: string;
  filter?: Omit<MonitorFilter, 'tenantId' | 'staleAfterMinutes'> & { status: 'failed' | 'stale' | 'problems' };
  limit: number;
  staleAfterMinutes: number;
  followForMs: number;
}

export interface RetryAnswer {
  queued: number;
  messages: Array<{ messageId: string; round: number; workflowId: string; alreadyQueued: boolean }>;
  refused: Array<{ messageId: string; reason: RetryRefusalReason; message: string }>;
}

export async function requestRetries(em: EntityManager, temporal: TemporalHandle, req: RetryRequest): Promise<RetryAnswer> {
  const rows = req.messageId
    ? [await findMessage(em, req.tenantId, req.messageId, req.staleAfterMinutes)]
    : (await findMessages(em, { ...req.filter!, tenantId: req.tenantId, staleAfterMinutes: req.staleAfterMinutes, limit: req.limit, oldestFirst: true })).rows;
  const answer: RetryAnswer = { queued: 0, messages: [], refused: [] };
  const eligible: MessageRow[] = [];
  for (const row of rows) {
    const refusal = retryRefusal(row);
    if (refusal) answer.refused.push({ messageId: row.id, ...refusal });
    else eligible.push(row);
  }
  const pending = [...eligible];
  await Promise.all(
    Array.from({ length: Math.min(START_CONCURRENCY, pending.length) }, async () => {
      for (let row = pending.shift(); row; row = pending.shift()) answer.messages.push(await startRetry(temporal, row, req));
    }),
  );
  answer.queued = answer.messages.length;
  return answer;
}

async function startRetry(temporal: TemporalHandle, m: MessageRow, req: RetryRequest): Promise<RetryAnswer['messages'][number]> {
  const round = m.delivery_round + 1;
  const workflowId = followDeliveryWorkflowId(m.id, round);
  const input: FollowDeliveryInput = { tenantId: m.tenant_id, messageId: m.id, round, followForMs: req.followForMs, retry: { requestedBy: req.requestedBy } };
  const key = { tenantId: m.tenant_id, channel: m.channel, lineId: m.line_id, contact: m.contact } as JourneyKey;
  try {
    await temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      temporal.client.workflow.start('followDelivery', {
        workflowId,
        taskQueue: temporal.taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: contactSearchAttributes(key),
      }),
    );
    return { messageId: m.id, round, workflowId, alreadyQueued: false };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { messageId: m.id, round, workflowId, alreadyQueued: true };
    throw new AppError('unavailable', 'Cannot queue retries right now: the workflow service is unavailable; repeat the request shortly (it never sends twice)');
  }
}
