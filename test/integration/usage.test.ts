import { randomUUID } from 'node:crypto';
import { estimateCostUsd } from '../../core/ai/pricing';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack?.close());

/** A billed call as the AI activities record it, on a given instant. */
async function call(tenantId: string, at: string, model: string, purpose: string, prompt: number, completion: number, provider = 'OpenAI'): Promise<void> {
  await stack.orm.em.getConnection().execute(
    `insert into ai_usage (id, tenant_id, provider_name, model, purpose, prompt_tokens, completion_tokens, total_tokens, cost_usd, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [randomUUID(), tenantId, provider, model, purpose, prompt, completion, prompt + completion, estimateCostUsd(model, prompt, completion), at],
  );
}

describe('GET /api/usage', () => {
  let owner: TestAccount;
  beforeAll(async () => {
    owner = await signedInAccount(stack);
    const t = owner.user.tenantId;
    await call(t, '2026-03-01T08:00:00Z', 'gpt-4.1-mini', 'generation', 1000, 500);
    await call(t, '2026-03-01T23:59:00Z', 'gpt-4.1-mini', 'generation', 3000, 1500);
    await call(t, '2026-03-01T12:00:00Z', 'text-embedding-3-small', 'embeddings', 10_000, 0);
    await call(t, '2026-03-02T09:00:00Z', 'llama3.1', 'replies', 200, 100, 'Local');
    await call(t, '2026-03-05T09:00:00Z', 'gpt-4.1-mini', 'replies', 1, 1);
    const other = await signedInAccount(stack);
    await call(other.user.tenantId, '2026-03-01T10:00:00Z', 'gpt-4.1', 'generation', 99_999, 99_999);
  });

  it('adds up tokens and cost per UTC day, provider, model and purpose, for the caller’s tenant only', async () => {
    const res = await owner.agent.get('/api/usage?from=2026-03-01&to=2026-03-02');
    expect(res.status).toBe(200);
    const generationCost = (4000 * 0.4 + 2000 * 1.6) / 1e6;
    const embeddingCost = (10_000 * 0.02) / 1e6;
    expect(res.body.from).toBe('2026-03-01');
    expect(res.body.days).toEqual([
      { date: '2026-03-01', provider: 'OpenAI', model: 'gpt-4.1-mini', purpose: 'generation', calls: 2, promptTokens: 4000, completionTokens: 2000, totalTokens: 6000, costUsd: generationCost, unpricedCalls: 0 },
      { date: '2026-03-01', provider: 'OpenAI', model: 'text-embedding-3-small', purpose: 'embeddings', calls: 1, promptTokens: 10_000, completionTokens: 0, totalTokens: 10_000, costUsd: embeddingCost, unpricedCalls: 0 },
      { date: '2026-03-02', provider: 'Local', model: 'llama3.1', purpose: 'replies', calls: 1, promptTokens: 200, completionTokens: 100, totalTokens: 300, costUsd: 0, unpricedCalls: 1 },
    ]);
    expect(res.body.totals).toEqual({ calls: 4, promptTokens: 14_200, completionTokens: 2100, totalTokens: 16_300, costUsd: Math.round((generationCost + embeddingCost) * 1e6) / 1e6, unpricedCalls: 1 });
    expect(res.body.byProvider.map((r: { provider: string; calls: number }) => [r.provider, r.calls])).toEqual([['Local', 1], ['OpenAI', 3]]);
    expect(res.body.byPurpose.map((r: { purpose: string; totalTokens: number }) => [r.purpose, r.totalTokens])).toEqual([['embeddings', 10_000], ['generation', 6000], ['replies', 300]]);
    expect(res.body.byModel).toHaveLength(3);
  });

  it('filters by purpose, and refuses another tenant’s usage to anyone but an administrator', async () => {
    const res = await owner.agent.get('/api/usage?from=2026-03-01&to=2026-03-31&purpose=replies');
    expect(res.body.totals).toMatchObject({ calls: 2, totalTokens: 302 });
    const outsider = await signedInAccount(stack);
    expect((await outsider.agent.get(`/api/usage?tenantId=${owner.user.tenantId}`)).status).toBe(403);
    const admin = await signedInAccount(stack, { role: 'admin' });
    expect((await admin.agent.get(`/api/usage?from=2026-03-01&to=2026-03-31&tenantId=${owner.user.tenantId}`)).body.totals.calls).toBe(5);
    expect((await owner.agent.get('/api/usage?from=2026-03-05&to=2026-03-01')).status).toBe(400);
  });
});

describe('GET /api/usage/balance', () => {
  it('compares this month’s spending with the budget and alerts when it gets close, then when it is exceeded', async () => {
    const owner = await signedInAccount(stack);
    const t = owner.user.tenantId;
    const now = new Date();
    const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 0, 30)).toISOString();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15)).toISOString();
    await call(t, lastMonth, 'gpt-4.1', 'generation', 1_000_000, 1_000_000); // $10, not this month's
    await call(t, thisMonth, 'gpt-4.1', 'generation', 500_000, 0); // $1

    expect((await owner.agent.get('/api/usage/balance')).body).toMatchObject({ budgetUsd: null, spentUsd: 1, remainingUsd: null, alert: 'none', calls: 1 });
    expect((await owner.agent.put('/api/settings/ai/budget').send({ monthlyBudgetUsd: 1.2, alertAtPercent: 75 })).body).toEqual({ monthlyBudgetUsd: 1.2, alertAtPercent: 75 });
    expect((await owner.agent.get('/api/settings/ai')).body.budget).toEqual({ monthlyBudgetUsd: 1.2, alertAtPercent: 75 });

    const approaching = (await owner.agent.get('/api/usage/balance')).body;
    expect(approaching).toMatchObject({ month: thisMonth.slice(0, 7), budgetUsd: 1.2, spentUsd: 1, remainingUsd: 0.2, percentUsed: 83.33, alert: 'approaching' });
    await call(t, thisMonth, 'gpt-4.1', 'generation', 100_000, 0); // $0.20 more: the whole budget
    expect((await owner.agent.get('/api/usage/balance')).body).toMatchObject({ spentUsd: 1.2, remainingUsd: 0, percentUsed: 100, alert: 'exceeded' });
    await owner.agent.put('/api/settings/ai/budget').send({ monthlyBudgetUsd: 100 }).expect(200);
    expect((await owner.agent.get('/api/usage/balance')).body).toMatchObject({ percentUsed: 1.2, alert: 'none', alertAtPercent: 75 });
  });
});

it('answers an impossible date with 400 naming the parameter', async () => {
  const owner = await signedInAccount(stack);
  for (const from of ['0000-00-00', '2026-02-30']) {
    const res = await owner.agent.get('/api/usage').query({ from });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/from/);
  }
});
