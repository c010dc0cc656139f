import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { aiFailureTypes } from '../../core/ai/activities';
import { resolveProvider, type ResolvedProvider } from '../../core/ai/providers';
import { recordBilledAnswer } from '../../core/ai/usage';
import type { SecretBox } from '../../core/crypto/secret-box';
import { normalise } from '../../core/knowledge/vectors';
import type { AiDeps } from '../ai';
import { clientFor, providerFailure } from '../ai/provider-client';

export interface EmbeddingDeps {
  box: SecretBox;
  ai: AiDeps;
}

/**
 * Embeds `texts` with the provider's embedding model, records the tokens billed (purpose `embeddings`) and
 * answers the vectors L2-normalised, in the order of `texts`. Provider errors become activity failures
 * (retryable or not, see providerFailure), as does an answer that is not one vector of one size per text.
 */
export async function embedTexts(
  em: EntityManager,
  deps: EmbeddingDeps,
  provider: ResolvedProvider,
  call: { tenantId: string; texts: string[]; reference: string },
): Promise<number[][]> {
  let response;
  try {
    response = await clientFor(provider, { timeoutMs: deps.ai.requestTimeoutMs, tenantFetch: deps.ai.tenantFetch }).embeddings.create({ model: provider.model, input: call.texts });
  } catch (err) {
    throw providerFailure(err, provider);
  }
  await recordBilledAnswer(em, provider, { tenantId: call.tenantId, purpose: 'embeddings', reference: call.reference }, response);
  const byIndex = new Map(response.data.map((d) => [d.index, d.embedding]));
  const vectors = call.texts.map((_, i) => {
    const raw = byIndex.get(i);
    return raw ? normalise(raw) : null;
  });
  const size = vectors[0]?.length;
  if (vectors.some((v) => v === null || v.length !== size)) {
    throw ApplicationFailure.nonRetryable(
      `${provider.name} (model ${provider.model}) did not answer one embedding of one size per text`,
      aiFailureTypes.rejected,
    );
  }
  return vectors as number[][];
}

/**
 * A query's embedding by the tenant's provider (or the installation's), for searchKnowledge's
 * `queryEmbedding`; null when no provider is configured. Documents are embedded with the same provider's
 * model, so the vectors compare.
 */
export async function embedQuery(
  em: EntityManager,
  deps: EmbeddingDeps,
  input: { tenantId: string; query: string; reference: string },
): Promise<{ vector: number[]; model: string } | null> {
  const provider = await resolveProvider(em, deps.box, deps.ai.fallback, input.tenantId, 'embeddings');
  if (!provider) return null;
  const [vector] = await embedTexts(em, deps, provider, { tenantId: input.tenantId, texts: [input.query], reference: input.reference });
  return { vector, model: provider.model };
}
