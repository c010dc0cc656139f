import type { EntityManager } from '@mikro-orm/postgresql';
import { AiBudget, AiUsage, type AiPurpose } from '../db/entities';
import { newId } from '../ids';
import { estimateCostUsd } from './pricing';

export interface UsageEntry {
  tenantId: string;
  providerId: string | null;
  providerName: string;
  model: string;
  purpose: AiPurpose;
  promptTokens: number;
  completionTokens: number;
  /** What the call was for, e.g. `generation/<id>`. */
  reference?: string;
}

/**
 * Records one model call as billed. Called right after the provider answered, before anything else can
 * fail: a retried activity makes a new call, and that call is billed (and recorded) again.
 */
export async function recordUsage(em: EntityManager, entry: UsageEntry): Promise<void> {
  const row: AiUsage = Object.assign(new AiUsage(), {
    id: newId(),
    ...entry,
    totalTokens: entry.promptTokens + entry.completionTokens,
    costUsd: estimateCostUsd(entry.model, entry.promptTokens, entry.completionTokens),
    reference: entry.reference ?? null,
    createdAt: new Date(),
  });
  await em.insert(AiUsage, row);
}

/** What an OpenAI-compatible answer says it billed, recorded against the provider that answered. */
export async function recordBilledAnswer(
  em: EntityManager,
  provider: { providerId: string | null; name: string; model: string },
  call: { tenantId: string; purpose: UsageEntry['purpose']; reference: string },
  answer: { model?: string; usage?: { prompt_tokens?: number; completion_tokens?: number } | null },
): Promise<void> {
  await recordUsage(em, {
    tenantId: call.tenantId,
    providerId: provider.providerId,
    providerName: provider.name,
    model: answer.model || provider.model,
    purpose: call.purpose,
    promptTokens: answer.usage?.prompt_tokens ?? 0,
    completionTokens: answer.usage?.completion_tokens ?? 0,
    reference: call.reference,
  });
}

export interface UsageTotals {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Of the calls whose model has a known price; see `unpricedCalls`. */
  costUsd: number;
  /** Calls to models without a known price: their tokens count, their cost does not. */
  unpricedCalls: number;
}

export interface UsageRow extends UsageTotals {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  provider: string;
  model: string;
  purpose: AiPurpose;
}

interface RawRow {
  date?: string;
  provider?: string;
  model?: string;
  purpose?: AiPurpose;
  calls: string;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  total_tokens: string | null;
  cost_usd: number | null;
  unpriced_calls: string;
}

const totalsOf = (r: RawRow): UsageTotals => ({
  calls: Number(r.calls),
  promptTokens: Number(r.prompt_tokens ?? 0),
  completionTokens: Number(r.completion_tokens ?? 0),
  totalTokens: Number(r.total_tokens ?? 0),
  costUsd: roundUsd(Number(r.cost_usd ?? 0)),
  unpricedCalls: Number(r.unpriced_calls),
});

/** Costs are estimates; a millionth of a dollar is precision enough, and keeps sums readable. */
const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;

const sums = `count(*) as calls, sum(prompt_tokens) as prompt_tokens, sum(completion_tokens) as completion_tokens,
  sum(total_tokens) as total_tokens, sum(cost_usd) as cost_usd, count(*) filter (where cost_usd is null) as unpriced_calls`;

/**
 * A tenant's usage between two instants: per UTC day, provider, model and purpose, plus the totals by each
 * of provider, model and purpose and overall.
 */
export async function usageReport(em: EntityManager, tenantId: string, range: { from: Date; to: Date; purpose?: AiPurpose }) {
  const conn = em.getConnection();
  const where = `tenant_id = ? and created_at >= ? and created_at < ?${range.purpose ? ' and purpose = ?' : ''}`;
  const params = [tenantId, range.from, range.to, ...(range.purpose ? [range.purpose] : [])];
  const grouped = (key: string, alias: string) =>
    conn.execute<RawRow[]>(`select ${key} as ${alias}, ${sums} from ai_usage where ${where} group by 1 order by 1`, params);
  const [days, byProvider, byModel, byPurpose, [total]] = await Promise.all([
    conn.execute<RawRow[]>(
      `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as date, provider_name as provider, model, purpose, ${sums}
       from ai_usage where ${where} group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
      params,
    ),
    grouped('provider_name', 'provider'),
    grouped('model', 'model'),
    grouped('purpose', 'purpose'),
    conn.execute<RawRow[]>(`select ${sums} from ai_usage where ${where}`, params),
  ]);
  return {
    days: days.map((r): UsageRow => ({ date: r.date!, provider: r.provider!, model: r.model!, purpose: r.purpose!, ...totalsOf(r) })),
    byProvider: byProvider.map((r) => ({ provider: r.provider!, ...totalsOf(r) })),
    byModel: byModel.map((r) => ({ model: r.model!, ...totalsOf(r) })),
    byPurpose: byPurpose.map((r) => ({ purpose: r.purpose!, ...totalsOf(r) })),
    totals: totalsOf(total),
  };
}

export type BudgetAlert = 'none' | 'approaching' | 'exceeded';

/** This calendar month's (UTC) spending against the tenant's monthly budget. */
export async function usageBalance(em: EntityManager, tenantId: string, now = new Date()) {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const [spent] = await em
    .getConnection()
    .execute<RawRow[]>(`select ${sums} from ai_usage where tenant_id = ? and created_at >= ? and created_at < ?`, [tenantId, monthStart, nextMonth]);
  const budget = await em.findOne(AiBudget, { tenantId });
  const totals = totalsOf(spent);
  const limit = budget?.monthlyBudgetUsd ?? null;
  const alertAtPercent = budget?.alertAtPercent ?? 80;
  // A budget of 0 is used up from the start: it turns the tenant's AI off (core/ai/budget.ts).
  const percentUsed = limit === null ? null : limit === 0 ? 100 : Math.round((totals.costUsd / limit) * 10_000) / 100;
  const alert: BudgetAlert = percentUsed === null ? 'none' : percentUsed >= 100 ? 'exceeded' : percentUsed >= alertAtPercent ? 'approaching' : 'none';
  return {
    month: monthStart.toISOString().slice(0, 7),
    budgetUsd: limit,
    spentUsd: totals.costUsd,
    remainingUsd: limit === null ? null : roundUsd(limit - totals.costUsd),
    percentUsed,
    alertAtPercent,
    alert,
    calls: totals.calls,
    totalTokens: totals.totalTokens,
    unpricedCalls: totals.unpricedCalls,
  };
}

/** Sets (or, with null, removes) the tenant's monthly budget. */
export async function saveBudget(em: EntityManager, tenantId: string, changes: { monthlyBudgetUsd?: number | null; alertAtPercent?: number }): Promise<AiBudget> {
  let budget = await em.findOne(AiBudget, { tenantId });
  if (!budget) {
    budget = em.create(AiBudget, { tenantId, monthlyBudgetUsd: null, alertAtPercent: 80 });
  }
  if (changes.monthlyBudgetUsd !== undefined) budget.monthlyBudgetUsd = changes.monthlyBudgetUsd;
  if (changes.alertAtPercent !== undefined) budget.alertAtPercent = changes.alertAtPercent;
  await em.flush();
  return budget;
}
