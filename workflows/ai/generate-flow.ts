import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { AiActivities, GenerateFlowInput, GenerateFlowResult } from '../../core/ai/activities';

const { draftFlow } = proxyActivities<AiActivities>({
  startToCloseTimeout: '2 minutes',
  // Network errors, 429 and 5xx are retried; a refused key or request is not (the activity says which).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 4 },
});

/**
 * Generates a flow: asks the model, and when its flow is invalid asks once more with the errors. A second
 * invalid flow fails the workflow (type `invalid_flow`) with the errors, so nothing broken is saved. The
 * caller (the API) saves the flow it returns; this workflow writes nothing but usage.
 */
export async function generateFlow(input: GenerateFlowInput): Promise<GenerateFlowResult> {
  try {
    const first = await draftFlow(input);
    if (first.ok) return { name: first.name, description: first.description, graph: first.graph, repaired: false, provider: first.provider, model: first.model };
    const second = await draftFlow({ ...input, repair: { answer: first.answer, errors: first.errors } });
    if (second.ok) return { name: second.name, description: second.description, graph: second.graph, repaired: true, provider: second.provider, model: second.model };
    throw ApplicationFailure.nonRetryable(`the model returned an invalid flow twice; the last one: ${second.errors.slice(0, 5).join('; ')}`, 'invalid_flow', second.errors);
  } catch (err) {
    // Surface the activity's own failure (its type says why: ai_auth, ai_transient, …) to the caller.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? 'ai_failed', ...(err.cause.details ?? []));
    }
    throw err;
  }
}
