import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../errors';
import { aiFailureTypes } from './activities';
import { usageBalance } from './usage';

/**
 * The tenant's monthly AI budget, enforced. Once GET /api/usage/balance says `exceeded` (this UTC month's
 * estimated spending has reached the budget; a budget of 0 turns AI off), no new model call is made for the
 * tenant: the API refuses with 429, an AI reply node hands the customer to an agent. It is checked before each
 * call, so calls already under way can take the spending a little past the budget; calls to models without a
 * known price add nothing to the spending (see core/ai/pricing.ts).
 */

export type UsageBalance = Awaited<ReturnType<typeof usageBalance>>;

/** The balance when the budget is used up, else null. */
export async function exceededBudget(em: EntityManager, tenantId: string, now = new Date()): Promise<UsageBalance | null> {
  const balance = await usageBalance(em, tenantId, now);
  return balance.alert === 'exceeded' ? balance : null;
}

/** Cents for everyday amounts; small test budgets keep their two significant digits. */
function usd(amount: number | null): string {
  const n = amount ?? 0;
  return `$${n >= 1 || n === 0 ? n.toFixed(2) : Number(n.toPrecision(2))}`;
}

export function budgetExceededMessage(balance: UsageBalance): string {
  return (
    `This account's AI budget for ${balance.month} is used up (${usd(balance.spentUsd)} of ${usd(balance.budgetUsd)}): ` +
    'raise it with PUT /api/settings/ai/budget, or wait for next month'
  );
}

/** Seconds until the next UTC month begins, when the spending starts again from zero. */
export function secondsUntilNextMonth(now = new Date()): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

/** For activities, before a model call: a final (non-retryable) failure typed `ai_budget_exceeded`. */
export async function assertWithinBudgetForActivity(em: EntityManager, tenantId: string): Promise<void> {
  const over = await exceededBudget(em, tenantId);
  if (over) throw ApplicationFailure.nonRetryable(budgetExceededMessage(over), aiFailureTypes.budgetExceeded);
}

/** For the API, before it starts AI work: a 429 with Retry-After (the next month) when the budget is used up. */
export async function assertWithinBudget(em: EntityManager, tenantId: string, now = new Date()): Promise<void> {
  const over = await exceededBudget(em, tenantId, now);
  if (over) throw new AppError('rate_limited', budgetExceededMessage(over), { retryAfterSec: secondsUntilNextMonth(now) });
}
