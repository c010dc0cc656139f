import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { deleteProvider, installationProviderName, maskedKey, openAiBaseUrl, saveProvider } from '../../core/ai/providers';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { saveBudget } from '../../core/ai/usage';
import { AiBudget, AiProvider, aiProviderKinds } from '../../core/db/entities';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { successSchema } from '../schemas';

/**
 * The tenant's AI providers: OpenAI, or any endpoint that speaks its API (a base URL), each with a default
 * model per purpose; one of them is the default, used for every AI call of the tenant. The API key is stored
 * encrypted and only ever shown masked. Without a provider of its own, a tenant uses the installation's
 * (OPENAI_BASE_URL / OPENAI_API_KEY), shown here as `installation`.
 */
const models = z.object({
  generation: z.string().meta({ description: 'Flow generation' }),
  replies: z.string().meta({ description: 'AI replies to customers' }),
  embeddings: z.string().meta({ description: 'Knowledge-base embeddings' }),
});

const providerSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  kind: z.enum(aiProviderKinds),
  baseUrl: z.string().meta({ description: "The API base URL (OpenAI's unless set)" }),
  apiKey: z.string().nullable().meta({ description: 'Masked: the last four characters at most; null when no key is set' }),
  models,
  isDefault: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const budgetSchema = z.object({
  monthlyBudgetUsd: z.number().nullable().meta({ description: 'US dollars a calendar month (UTC); null: no budget. Once used up, AI calls are refused until the next month (0: AI off)' }),
  alertAtPercent: z.number().int().meta({ description: 'GET /api/usage/balance alerts from this share of the budget' }),
});

const settingsSchema = z.object({
  providers: z.array(providerSchema),
  budget: budgetSchema,
  defaultProviderId: z.string().uuid().nullable(),
  installation: z
    .object({ name: z.string(), baseUrl: z.string(), models })
    .nullable()
    .meta({ description: "The installation's provider (OPENAI_* variables), used when the account has none of its own; null when not configured" }),
});

const model = z.string().trim().min(1, 'must not be empty').max(200);
const upsertBody = z.object({
  id: z.string().uuid({ message: 'must be a UUID' }).optional().meta({ description: 'Update this provider; omit to add one' }),
  name: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  kind: z.enum(aiProviderKinds).optional().meta({ description: "openai (the default) or openai_compatible (any endpoint speaking OpenAI's API)" }),
  baseUrl: z
    .string()
    .trim()
    .url('must be a URL')
    .regex(/^https?:\/\//, 'must be an http(s) URL')
    .max(2048)
    .nullable()
    .optional()
    .meta({ description: "e.g. http://localhost:11434/v1; required for openai_compatible, null for OpenAI's own" }),
  apiKey: z.string().trim().min(1, 'must not be empty').max(4096).nullable().optional().meta({ description: 'Stored encrypted; null removes it' }),
  models: z.object({ generation: model.optional(), replies: model.optional(), embeddings: model.optional() }).optional(),
  isDefault: z.boolean().optional().meta({ description: 'true makes this the provider every AI call of the account uses' }),
});

function present(p: AiProvider): z.infer<typeof providerSchema> {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    baseUrl: p.baseUrl ?? openAiBaseUrl,
    apiKey: maskedKey(p),
    models: { generation: p.generationModel, replies: p.replyModel, embeddings: p.embeddingModel },
    isDefault: p.isDefault,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export function aiSettingsRoutes(deps: ApiDeps) {
  const box = secretBoxFor(deps.config);
  const fallback = deps.config.ai.fallback;
  const installation = fallback ? { name: installationProviderName, baseUrl: fallback.baseUrl, models: fallback.models } : null;
  const tag = 'Settings';
  return [
    route({
      method: 'get',
      path: '/api/settings/ai',
      tag,
      summary: "The account's AI providers (keys masked) and the default",
      auth: 'user',
      responses: { 200: { description: 'The providers, default first', schema: settingsSchema } },
      async handler(ctx, { principal }) {
        const em: EntityManager = ctx.state.em;
        const providers = await em.find(AiProvider, { tenantId: principal!.tenantId }, { orderBy: { isDefault: 'desc', createdAt: 'asc', id: 'asc' } });
        const budget = await em.findOne(AiBudget, { tenantId: principal!.tenantId });
        return {
          providers: providers.map(present),
          budget: { monthlyBudgetUsd: budget?.monthlyBudgetUsd ?? null, alertAtPercent: budget?.alertAtPercent ?? 80 },
          defaultProviderId: providers.find((p) => p.isDefault)?.id ?? null,
          installation,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/settings/ai',
      tag,
      summary: 'Add an AI provider, or update one (by id)',
      description:
        'A new provider needs a name, and an apiKey for OpenAI or a baseUrl for an OpenAI-compatible endpoint; models default to ' +
        'OpenAI model names. The first provider becomes the default; isDefault: true moves the default to this one.',
      auth: 'user',
      body: upsertBody,
      responses: {
        200: { description: 'Updated', schema: providerSchema },
        201: { description: 'Created', schema: providerSchema },
        404: { description: 'No provider with this id in your account' },
        409: { description: 'A provider with this name exists already' },
      },
      async handler(ctx, { body, principal }) {
        const { id, ...changes } = body;
        const { provider, created } = await saveProvider(ctx.state.em, box, principal!.tenantId, { id }, changes);
        ctx.status = created ? 201 : 200;
        return present(provider);
      },
    }),
    route({
      method: 'put',
      path: '/api/settings/ai/budget',
      tag,
      summary: "Set the account's monthly AI budget",
      auth: 'user',
      body: z
        .object({
          monthlyBudgetUsd: z.number().min(0, 'must not be negative').max(1_000_000).nullable().optional(),
          alertAtPercent: z.number().int().min(1).max(100).optional(),
        })
        .refine((v) => v.monthlyBudgetUsd !== undefined || v.alertAtPercent !== undefined, { message: 'give monthlyBudgetUsd or alertAtPercent' }),
      responses: { 200: { description: 'The budget', schema: budgetSchema } },
      async handler(ctx, { body, principal }) {
        const budget = await saveBudget(ctx.state.em, principal!.tenantId, body);
        return { monthlyBudgetUsd: budget.monthlyBudgetUsd ?? null, alertAtPercent: budget.alertAtPercent };
      },
    }),
    route({
      method: 'delete',
      path: '/api/settings/ai',
      tag,
      summary: 'Remove an AI provider (by ?id=)',
      description: 'Removing the default makes the oldest remaining provider the default; with none left, the installation provider is used.',
      auth: 'user',
      query: z.object({ id: z.string().uuid({ message: 'must be a UUID' }) }),
      responses: { 200: { description: 'Removed', schema: successSchema }, 404: { description: 'No provider with this id in your account' } },
      async handler(ctx, { query, principal }) {
        await deleteProvider(ctx.state.em, principal!.tenantId, query.id);
        return { success: true as const };
      },
    }),
    route({
      method: 'delete',
      path: '/api/settings/ai/:id',
      tag,
      summary: 'Remove an AI provider',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'Removed', schema: successSchema }, 404: { description: 'No provider with this id in your account' } },
      async handler(ctx, { params, principal }) {
        await deleteProvider(ctx.state.em, principal!.tenantId, params.id);
        return { success: true as const };
      },
    }),
  ];
}
