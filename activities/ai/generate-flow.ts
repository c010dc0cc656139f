import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { aiFailureTypes, type DraftFlowInput, type DraftFlowResult } from '../../core/ai/activities';
import { checkGeneratedFlow, flowRequestMessages, flowResponseFormat, repairMessages, type GenerationMaterial } from '../../core/ai/flow-generation';
import { assertWithinBudgetForActivity } from '../../core/ai/budget';
import { noProviderMessage, resolveProvider } from '../../core/ai/providers';
import type { SecretBox } from '../../core/crypto/secret-box';
import { AiGeneration } from '../../core/db/entities';
import type { AiDeps } from '.';
import { billedChatCompletion } from './billed-chat';

/** Room for a large flow as JSON; an answer cut off at this length is treated as invalid. */
const maxCompletionTokens = 16_000;

async function materialOf(gen: AiGeneration): Promise<GenerationMaterial> {
  return {
    prompt: gen.prompt,
    ...(gen.documentText ? { document: { name: gen.fileName ?? 'document.pdf', text: gen.documentText } } : {}),
    ...(gen.imageData && gen.fileType ? { images: [{ contentType: gen.fileType, base64: Buffer.from(gen.imageData).toString('base64') }] } : {}),
  };
}

/**
 * Asks the tenant's generation model for a flow — or, with `repair`, for the corrected flow — with structured
 * output, records the tokens billed, and checks the answer against the flow schema. Not idempotent in cost:
 * a retry is a new call and is billed (and recorded) again; its outcome is the same kind of answer.
 */
export function draftFlowActivity(deps: { orm: MikroORM; box: SecretBox; ai: AiDeps }) {
  return async function draftFlow(input: DraftFlowInput): Promise<DraftFlowResult> {
    const em = deps.orm.em.fork();
    const gen = await em.findOne(AiGeneration, { id: input.generationId, tenantId: input.tenantId }, { populate: ['imageData'] });
    if (!gen) throw ApplicationFailure.nonRetryable(`Generation ${input.generationId} not found`, 'generation_missing');
    const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'generation');
    if (!provider) throw ApplicationFailure.nonRetryable(noProviderMessage, aiFailureTypes.notConfigured);
    await assertWithinBudgetForActivity(em, input.tenantId);

    const messages = [...flowRequestMessages(await materialOf(gen)), ...(input.repair ? repairMessages(input.repair.answer, input.repair.errors) : [])];
    const completion = await billedChatCompletion(em, provider, {
      tenantId: input.tenantId,
      tenantFetch: deps.ai.tenantFetch,
      purpose: 'generation',
      reference: `generation/${gen.id}`,
      timeoutMs: deps.ai.requestTimeoutMs,
      request: { messages, response_format: flowResponseFormat(), max_completion_tokens: maxCompletionTokens },
    });

    const choice = completion.choices[0];
    const answer = choice?.message.content ?? '';
    const common = { answer, provider: provider.name, model: provider.model };
    if (choice?.message.refusal) return { ...common, ok: false, errors: [`the model refused: ${choice.message.refusal}`] };
    if (choice?.finish_reason === 'length') return { ...common, ok: false, errors: ['the answer was cut off: make the flow smaller'] };
    return { ...common, ...checkGeneratedFlow(answer) };
  };
}
