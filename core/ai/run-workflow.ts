import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, TimeoutFailure, type Workflow, type WorkflowResultType } from '@temporalio/common';
import { AppError } from '../errors';
import { searchAttributes as sa } from '../temporal/search-attributes';
import type { TemporalHandle } from '../temporal/connect';
import { aiFailureTypes } from './activities';
import { secondsUntilNextMonth } from './budget';
import { noProviderMessage } from './providers';

const START_TIMEOUT_MS = 5000;

export interface AiWorkflowCall<W extends Workflow> {
  workflowType: string;
  workflowId: string;
  args: Parameters<W>;
  tenantId: string;
  timeoutSec: number;
  /** What the caller asked for, as in "Cannot <what> right now". */
  what: string;
  /** Said after a timeout, e.g. "nothing was saved, try again". */
  afterTimeout: string;
  /** The error for the workflow's own failure types, and for any other failure (the cause is undefined when it is not an ApplicationFailure). */
  failure(cause: ApplicationFailure | undefined, err: Error): AppError;
}

/**
 * Starts one of the API's synchronous AI workflows (flow generation, template variants) and waits for its
 * answer, which the caller needs in the response. The workflow may not outlive the wait. A provider or model
 * failure becomes 502 (through `failure`), a missing provider 400, a used-up budget 429, time 503.
 */
export async function runAiWorkflow<W extends Workflow>(temporal: TemporalHandle, call: AiWorkflowCall<W>): Promise<WorkflowResultType<W>> {
  let handle: WorkflowHandle;
  try {
    handle = await temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      temporal.client.workflow.start<Workflow>(call.workflowType, {
        workflowId: call.workflowId,
        taskQueue: temporal.taskQueue,
        args: call.args,
        // Nobody waits longer than this for the answer, so nothing should run on after it.
        workflowExecutionTimeout: `${call.timeoutSec} seconds`,
        typedSearchAttributes: [{ key: sa.TenantId, value: call.tenantId }],
      }),
    );
  } catch {
    throw new AppError('unavailable', `Cannot ${call.what} right now: the workflow service is unavailable; try again shortly`);
  }
  try {
    return await temporal.connection.withDeadline(Date.now() + call.timeoutSec * 1000 + 2000, () => handle.result());
  } catch (err) {
    const tooLong = new AppError('unavailable', `The AI provider did not answer within ${call.timeoutSec} s; ${call.afterTimeout}`);
    if (!(err instanceof WorkflowFailedError) || err.cause instanceof TimeoutFailure) throw tooLong;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    if (cause?.type === aiFailureTypes.notConfigured) throw new AppError('invalid', noProviderMessage);
    if (cause?.type === aiFailureTypes.budgetExceeded) throw new AppError('rate_limited', cause.message, { retryAfterSec: secondsUntilNextMonth() });
    throw call.failure(cause, err);
  }
}
