import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResolvedProvider } from '../../core/ai/providers';
import { recordBilledAnswer } from '../../core/ai/usage';
import type { AiPurpose } from '../../core/db/entities';
import { clientFor, providerFailure } from './provider-client';

/**
 * One chat completion by the provider's model, recorded as billed (before its answer is even looked at, so a
 * later failure cannot lose the record). The provider's errors come out as activity failures (providerFailure).
 */
export async function billedChatCompletion(
  em: EntityManager,
  provider: ResolvedProvider,
  call: { tenantId: string; purpose: AiPurpose; reference: string; timeoutMs: number; tenantFetch: typeof fetch; request: Omit<ChatCompletionCreateParamsNonStreaming, 'model'> },
): Promise<ChatCompletion> {
  let completion: ChatCompletion;
  try {
    completion = await clientFor(provider, { timeoutMs: call.timeoutMs, tenantFetch: call.tenantFetch }).chat.completions.create({ model: provider.model, ...call.request });
  } catch (err) {
    throw providerFailure(err, provider);
  }
  await recordBilledAnswer(em, provider, call, completion);
  return completion;
}
