import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { aiFailureTypes, type DraftVariantsInput, type DraftVariantsResult } from '../../core/ai/activities';
import { assertWithinBudgetForActivity } from '../../core/ai/budget';
import { noProviderMessage, resolveProvider } from '../../core/ai/providers';
import {
  parseVariantsAnswer,
  sameVariant,
  variantProblems,
  variantsRepairMessage,
  variantsResponseFormat,
  variantsSystemPrompt,
  variantsUserMessage,
  type VariantProblem,
} from '../../core/ai/template-variants';
import type { SecretBox } from '../../core/crypto/secret-box';
import type { AiDeps } from '.';
import { billedChatCompletion } from './billed-chat';

/** Ten variants of 1024 characters, as JSON, with room to spare. */
const maxCompletionTokens = 6000;

/**
 * Asks the tenant's generation model for variants of a template body — or, with `repair`, for replacements of
 * the broken ones — records the tokens billed, and checks every variant against WhatsApp's template rules.
 * Not idempotent in cost: a retry is a new call, billed and recorded again.
 */
export function draftTemplateVariantsActivity(deps: { orm: MikroORM; box: SecretBox; ai: AiDeps }) {
  return async function draftTemplateVariants(input: DraftVariantsInput): Promise<DraftVariantsResult> {
    const em = deps.orm.em.fork();
    const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'generation');
    if (!provider) throw ApplicationFailure.nonRetryable(noProviderMessage, aiFailureTypes.notConfigured);
    await assertWithinBudgetForActivity(em, input.tenantId);

    const { request, repair } = input;
    const messages = [
      { role: 'system' as const, content: variantsSystemPrompt() },
      { role: 'user' as const, content: variantsUserMessage(request) },
      ...(repair
        ? [
            { role: 'assistant' as const, content: repair.answer },
            { role: 'user' as const, content: variantsRepairMessage(repair.problems, repair.answerErrors, repair.wanted) },
          ]
        : []),
    ];
    const completion = await billedChatCompletion(em, provider, {
      tenantId: input.tenantId,
      tenantFetch: deps.ai.tenantFetch,
      purpose: 'generation',
      reference: input.reference,
      timeoutMs: deps.ai.requestTimeoutMs,
      request: { messages, response_format: variantsResponseFormat(), max_completion_tokens: maxCompletionTokens },
    });

    const choice = completion.choices[0];
    const answer = choice?.message.content ?? '';
    const common = { answer, provider: provider.name, model: provider.model };
    if (choice?.message.refusal) return { ...common, valid: [], problems: [], answerErrors: [`the model refused: ${choice.message.refusal}`] };
    if (choice?.finish_reason === 'length') return { ...common, valid: [], problems: [], answerErrors: ['the answer was cut off: write shorter variants'] };
    const parsed = parseVariantsAnswer(answer);
    if (!parsed.ok) return { ...common, valid: [], problems: [], answerErrors: [parsed.error] };

    const valid: string[] = [];
    const problems: VariantProblem[] = [];
    parsed.texts.forEach((text, i) => {
      const errors = variantProblems(text, request.text);
      if (!errors.length && [...(repair?.kept ?? []), ...valid].some((v) => sameVariant(v, text))) errors.push('it repeats another variant');
      if (errors.length) problems.push({ variant: i + 1, errors });
      else valid.push(text);
    });
    const answerErrors = parsed.texts.length < (repair?.wanted ?? request.count) ? [`you wrote ${parsed.texts.length} variants, not ${repair?.wanted ?? request.count}`] : [];
    return { ...common, valid, problems, answerErrors };
  };
}
