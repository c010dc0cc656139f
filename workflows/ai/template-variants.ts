import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { AiActivities, TemplateVariantsInput, TemplateVariantsResult } from '../../core/ai/activities';

const { draftTemplateVariants } = proxyActivities<AiActivities>({
  startToCloseTimeout: '2 minutes',
  // Network errors, 429 and 5xx are retried; a refused key or request, or a used-up budget, is not.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 4 },
});

/**
 * Variants of a template body: asks the model, and when some of its variants break the template rules (or it
 * wrote too few) asks once more for replacements, showing it what was wrong. Variants still broken after that
 * are dropped; when none is left the workflow fails (type `invalid_variants`) with the reasons.
 */
export async function generateTemplateVariants(input: TemplateVariantsInput): Promise<TemplateVariantsResult> {
  const wanted = input.request.count;
  try {
    const first = await draftTemplateVariants(input);
    const kept = first.valid.slice(0, wanted);
    if (kept.length === wanted) return { variants: kept, repaired: false, provider: first.provider, model: first.model };
    const second = await draftTemplateVariants({
      ...input,
      repair: { answer: first.answer, problems: first.problems, answerErrors: first.answerErrors, wanted: wanted - kept.length, kept },
    });
    const fixed = second.valid.slice(0, wanted - kept.length);
    const variants = [...kept, ...fixed];
    if (!variants.length) {
      const reasons = [...second.answerErrors, ...second.problems.map((p) => `variant ${p.variant}: ${p.errors.join('; ')}`)];
      throw ApplicationFailure.nonRetryable(`no variant followed the template rules, even after a repair; the last answer: ${reasons.slice(0, 5).join(' / ')}`, 'invalid_variants', reasons);
    }
    return { variants, repaired: fixed.length > 0, provider: second.provider, model: second.model };
  } catch (err) {
    // Surface the activity's own failure (its type says why: ai_auth, ai_budget_exceeded, …) to the caller.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? 'ai_failed', ...(err.cause.details ?? []));
    }
    throw err;
  }
}
