import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { SecretBox } from '../crypto/secret-box';
import { AiProvider, Tenant, type AiProviderKind, type AiPurpose } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';

/**
 * The AI providers of a tenant (the writes behind /api/settings/ai, which keep at most one default) and the
 * choice of provider and model for a call: the tenant's default provider, else the installation's
 * (OPENAI_BASE_URL / OPENAI_API_KEY), else none.
 */

export const openAiBaseUrl = 'https://api.openai.com/v1';
export const defaultModels: Record<AiPurpose, string> = { generation: 'gpt-4.1-mini', replies: 'gpt-4.1-mini', embeddings: 'text-embedding-3-small' };

/** A provider and model ready for a call. The key is in clear: hand it to the client and nothing else. */
export interface ResolvedProvider {
  /** Null: the installation's provider. */
  providerId: string | null;
  name: string;
  baseUrl: string;
  apiKey: string | null;
  model: string;
}

export const installationProviderName = 'installation default';

export type FallbackProvider = Config['ai']['fallback'];

const modelOf = (p: AiProvider, purpose: AiPurpose): string =>
  purpose === 'generation' ? p.generationModel : purpose === 'replies' ? p.replyModel : p.embeddingModel;

export function defaultProvider(em: EntityManager, tenantId: string): Promise<AiProvider | null> {
  return em.findOne(AiProvider, { tenantId, isDefault: true });
}

/** The provider and model a tenant's call for `purpose` goes to, or null when none is configured anywhere. */
export async function resolveProvider(
  em: EntityManager,
  box: SecretBox,
  fallback: FallbackProvider,
  tenantId: string,
  purpose: AiPurpose,
): Promise<ResolvedProvider | null> {
  const own = await defaultProvider(em, tenantId);
  if (own) {
    return {
      providerId: own.id,
      name: own.name,
      baseUrl: own.baseUrl ?? openAiBaseUrl,
      apiKey: own.apiKeySealed ? box.open(own.apiKeySealed, keyContext(own.id)) : null,
      model: modelOf(own, purpose),
    };
  }
  if (!fallback) return null;
  return { providerId: null, name: installationProviderName, baseUrl: fallback.baseUrl, apiKey: fallback.apiKey ?? null, model: fallback.models[purpose] };
}

/** Whether a call could be made at all, checked by the API before it starts one (no key is opened). */
export async function hasProvider(em: EntityManager, fallback: FallbackProvider, tenantId: string): Promise<boolean> {
  return fallback !== null || (await defaultProvider(em, tenantId)) !== null;
}

export const noProviderMessage = 'No AI provider is configured: add one in Settings → AI (POST /api/settings/ai), or set OPENAI_API_KEY for the installation';

export interface ProviderChanges {
  name?: string;
  kind?: AiProviderKind;
  /** Null: OpenAI's own API (kind openai only). */
  baseUrl?: string | null;
  /** Null removes the key (for endpoints that need none). */
  apiKey?: string | null;
  models?: Partial<Record<AiPurpose, string>>;
  isDefault?: boolean;
}

/**
 * Creates a provider of the tenant, or updates the one with `target.id` (404 when it is not the tenant's).
 * The first provider becomes the default; `isDefault: true` moves the default to this one in the same
 * transaction. Writes of one tenant are serialised on its tenant row, so two "first providers" cannot both
 * become default.
 */
export async function saveProvider(
  em: EntityManager,
  box: SecretBox,
  tenantId: string,
  target: { id?: string },
  changes: ProviderChanges,
): Promise<{ provider: AiProvider; created: boolean }> {
  try {
    return await em.transactional(async (tem) => {
      await tem.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      let provider: AiProvider | null = null;
      if (target.id) {
        provider = await tem.findOne(AiProvider, { id: target.id, tenantId });
        if (!provider) throw notFound('AI provider');
      }
      if (changes.isDefault === false && provider?.isDefault) {
        throw new AppError('invalid', 'Invalid body: isDefault: make another provider the default instead, or delete this one');
      }
      const created = !provider;
      provider = provider ? applyChanges(provider, box, changes) : createProvider(tem, box, tenantId, changes);
      checkShape(provider);

      const hasDefault = (await tem.count(AiProvider, { tenantId, isDefault: true, id: { $ne: provider.id } })) > 0;
      if (changes.isDefault === true || !hasDefault) {
        // Demote first: the partial unique index allows one default per tenant at every statement.
        await tem.nativeUpdate(AiProvider, { tenantId, isDefault: true, id: { $ne: provider.id } }, { isDefault: false, updatedAt: new Date() });
        provider.isDefault = true;
      }
      await tem.flush();
      return { provider, created };
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException && /name/.test(err.message)) {
      throw new AppError('conflict', `An AI provider named "${changes.name}" already exists in this account`);
    }
    throw err;
  }
}

/** Deleting the default provider makes the oldest remaining one the default. */
export async function deleteProvider(em: EntityManager, tenantId: string, id: string): Promise<void> {
  await em.transactional(async (tem) => {
    await tem.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const provider = await tem.findOne(AiProvider, { id, tenantId });
    if (!provider) throw notFound('AI provider');
    tem.remove(provider);
    await tem.flush();
    if (provider.isDefault) {
      const next = await tem.findOne(AiProvider, { tenantId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      if (next) {
        next.isDefault = true;
        await tem.flush();
      }
    }
  });
}

/** What a person may see of a key: its last four characters, and only when it is long enough to spare them. */
export const maskedKey = (p: AiProvider): string | null => (p.apiKeySealed ? `****${p.apiKeyHint}` : null);

const keyContext = (providerId: string) => `ai_providers.api_key:${providerId}`;
const keyHint = (key: string) => (key.length >= 12 ? key.slice(-4) : '');

function createProvider(em: EntityManager, box: SecretBox, tenantId: string, changes: ProviderChanges): AiProvider {
  if (!changes.name) throw new AppError('invalid', 'Invalid body: name: required for a new provider');
  const id = newId();
  const kind = changes.kind ?? 'openai';
  return em.create(AiProvider, {
    id,
    tenantId,
    name: changes.name,
    kind,
    baseUrl: changes.baseUrl ?? null,
    apiKeySealed: changes.apiKey ? box.seal(changes.apiKey, keyContext(id)) : null,
    apiKeyHint: changes.apiKey ? keyHint(changes.apiKey) : '',
    generationModel: changes.models?.generation ?? defaultModels.generation,
    replyModel: changes.models?.replies ?? defaultModels.replies,
    embeddingModel: changes.models?.embeddings ?? defaultModels.embeddings,
    isDefault: false,
  });
}

function applyChanges(p: AiProvider, box: SecretBox, changes: ProviderChanges): AiProvider {
  if (changes.name !== undefined) p.name = changes.name;
  if (changes.kind !== undefined) p.kind = changes.kind;
  if (changes.baseUrl !== undefined) p.baseUrl = changes.baseUrl;
  if (changes.apiKey !== undefined) {
    p.apiKeySealed = changes.apiKey === null ? null : box.seal(changes.apiKey, keyContext(p.id));
    p.apiKeyHint = changes.apiKey === null ? '' : keyHint(changes.apiKey);
  }
  if (changes.models?.generation) p.generationModel = changes.models.generation;
  if (changes.models?.replies) p.replyModel = changes.models.replies;
  if (changes.models?.embeddings) p.embeddingModel = changes.models.embeddings;
  return p;
}

/** OpenAI needs a key; any other endpoint needs its base URL. */
function checkShape(p: AiProvider): void {
  if (p.kind === 'openai' && !p.apiKeySealed) throw new AppError('invalid', 'Invalid body: apiKey: required for an OpenAI provider');
  if (p.kind === 'openai_compatible' && !p.baseUrl) throw new AppError('invalid', 'Invalid body: baseUrl: required for an OpenAI-compatible provider');
}
