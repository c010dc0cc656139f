import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { usageBalance, usageReport } from '../../core/ai/usage';
import { aiPurposes } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { Principal } from '../middleware/auth';
import type { ApiDeps } from '../deps';
import { route } from '../route';

/**
 * AI usage of the caller's tenant, from the ai_usage table (one row per model call): tokens and estimated
 * cost by day, provider, model and purpose, and this month's spending against the budget set in
 * /api/settings/ai/budget. An administrator signed in may ask for another tenant's with ?tenantId=.
 */

const totals = {
  calls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number().meta({ description: 'Estimated, in US dollars, from list prices; calls to unpriced models add nothing' }),
  unpricedCalls: z.number().int().meta({ description: 'Calls to models without a known price' }),
};

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.getUTCFullYear() >= 1970 && t.toISOString().slice(0, 10) === d;
  }, 'must be a real date, YYYY-MM-DD');
const tenantQuery = z.string().uuid({ message: 'must be a UUID' }).optional().meta({ description: 'Administrators: another tenant' });

function tenantOf(principal: Principal, tenantId: string | undefined): string {
  if (tenantId === undefined || tenantId === principal.tenantId) return principal.tenantId;
  if (principal.role === 'admin' && principal.kind === 'session') return tenantId;
  throw new AppError('forbidden', "Only an administrator can read another tenant's usage");
}

export function usageRoutes(_deps: ApiDeps) {
  const tag = 'Usage';
  return [
    route({
      method: 'get',
      path: '/api/usage',
      tag,
      summary: 'AI usage: tokens and estimated cost by day, provider, model and purpose',
      description: 'Days are UTC; `from` and `to` are inclusive and default to the last 30 days.',
      auth: 'user',
      query: z.object({ from: day.optional(), to: day.optional(), purpose: z.enum(aiPurposes).optional(), tenantId: tenantQuery }),
      responses: {
        200: {
          description: 'The usage',
          schema: z.object({
            from: z.string(),
            to: z.string(),
            totals: z.object(totals),
            days: z.array(z.object({ date: z.string(), provider: z.string(), model: z.string(), purpose: z.enum(aiPurposes), ...totals })),
            byProvider: z.array(z.object({ provider: z.string(), ...totals })),
            byModel: z.array(z.object({ model: z.string(), ...totals })),
            byPurpose: z.array(z.object({ purpose: z.enum(aiPurposes), ...totals })),
          }),
        },
      },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const today = new Date().toISOString().slice(0, 10);
        const to = query.to ?? today;
        const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
        if (from > to) throw new AppError('invalid', 'Invalid query: from: must not be after to');
        const range = { from: new Date(`${from}T00:00:00Z`), to: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000), purpose: query.purpose };
        return { from, to, ...(await usageReport(em, tenantOf(principal!, query.tenantId), range)) };
      },
    }),
    route({
      method: 'get',
      path: '/api/usage/balance',
      tag,
      summary: "This month's AI spending against the budget, and whether to alert",
      description: 'alert: `approaching` from alertAtPercent of the budget, `exceeded` from 100 %; `none` without a budget.',
      auth: 'user',
      query: z.object({ tenantId: tenantQuery }),
      responses: {
        200: {
          description: 'The balance',
          schema: z.object({
            month: z.string().meta({ description: 'YYYY-MM (UTC)' }),
            budgetUsd: z.number().nullable(),
            spentUsd: z.number(),
            remainingUsd: z.number().nullable(),
            percentUsed: z.number().nullable(),
            alertAtPercent: z.number().int(),
            alert: z.enum(['none', 'approaching', 'exceeded']),
            calls: z.number().int(),
            totalTokens: z.number().int(),
            unpricedCalls: z.number().int(),
          }),
        },
      },
      async handler(ctx, { query, principal }) {
        return usageBalance(ctx.state.em, tenantOf(principal!, query.tenantId));
      },
    }),
  ];
}
