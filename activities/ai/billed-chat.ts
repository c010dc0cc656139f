import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResolvedProvider } from '../../core/ai/providers';
import { recordUsage } from '../../core/ai/usage';
import type { AiPurpose } from '../../core/db/entities';
import { clientFor, providerFailure } from './provider-client';

/**
 * One chat completion by the provider's model, recorded as billed (before its answer is even looked at, so a
 * later failure cannot lose the record). The provider's errors come out as activity failures (providerFailure).
 */
export async function billedChatCompletion(
  em: EntityManager,
  provider: ResolvedProvider,
  call: { tenantId: string; purpose: AiPurpose; reference: string; timeoutMs: number; request: Omit<ChatCompletionCreateParamsNonStreaming, 'model'> },
): Promise<ChatCompletion> {
  let completion: ChatCompletion;
  try {
    completion = await clientFor(provider, { timeoutMs: call.timeoutMs }).chat.completions.create({ model: provider.model, ...call.request });
  } catch (err) {
    throw providerFailure(err, provider);
  }
  await recordUsage(em, {
    tenantId: call.tenantId,
    providerId: provider.providerId,
    providerName: provider.name,
    model: completion.model || provider.model,
    purpose: call.purpose,
    promptTokens: completion.usage?.prompt_tokens ?? 0,
    completionTokens: completion.usage?.completion_tokens ?? 0,
    reference: call.reference,
  });
  return completion;
}
