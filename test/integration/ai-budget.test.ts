import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { aiActivities, aiDepsFromConfig } from '../../activities/ai';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { startOpenAiSimulator, type OpenAiSimulatorProcess } from '../support/openai-simulator-process';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ai: OpenAiSimulatorProcess;
let worker: InProcessWorker;

beforeAll(async () => {
  [stack, ai] = await Promise.all([openTestStack(), startOpenAiSimulator()]);
  worker = await startInProcessWorker({ config: stack.deps.config, orm: stack.orm });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await ai?.stop();
  await stack?.close();
});
beforeEach(async () => ai.reset());

async function accountWithSimulator(): Promise<TestAccount> {
  const account = await signedInAccount(stack);
  const res = await account.agent.post('/api/settings/ai').send({ name: 'Simulator', kind: 'openai_compatible', baseUrl: ai.baseUrl, apiKey: ai.apiKey });
  expect(res.status).toBe(201);
  return account;
}

const setBudget = (account: TestAccount, monthlyBudgetUsd: number | null) => account.agent.put('/api/settings/ai/budget').send({ monthlyBudgetUsd }).expect(200);
const generate = (account: TestAccount) => account.agent.post('/api/flows/generate').field('prompt', 'A flow for a flower shop');
const variants = (account: TestAccount) => account.agent.post('/api/templates/ai-variants').send({ text: 'Hi {{1}}, your flowers arrive today. Enjoy them!', count: 2 });
const spent = async (tenantId: string) =>
  Number((await stack.orm.em.getConnection().execute(`select coalesce(sum(cost_usd), 0) as usd from ai_usage where tenant_id = ?`, [tenantId]))[0].usd);

describe('the monthly AI budget', () => {
  it('lets calls through until the spending reaches the budget, then refuses them with 429 until next month', async () => {
    const account = await accountWithSimulator();
    // Far below one generation's cost: the first call is allowed (nothing spent yet), and uses it up.
    await setBudget(account, 0.0001);
    expect((await generate(account)).status).toBe(200);
    expect(await spent(account.user.tenantId)).toBeGreaterThan(0.0001);

    const balance = (await account.agent.get('/api/usage/balance')).body;
    expect(balance).toMatchObject({ budgetUsd: 0.0001, alert: 'exceeded', calls: 1 });

    const refused = await generate(account);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: expect.stringMatching(/AI budget for \d{4}-\d{2} is used up \(\$0\.000\d+ of \$0\.0001\).*PUT \/api\/settings\/ai\/budget/) });
    const now = new Date();
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan((nextMonth - Date.now()) / 1000 - 60);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(Math.ceil((nextMonth - Date.now()) / 1000) + 1);
    const refusedVariants = await variants(account);
    expect(refusedVariants.status).toBe(429);
    expect(refusedVariants.body.error).toMatch(/AI budget .* is used up/);
    // Refused before any model was asked; usage still adds up to the one call.
    expect(await ai.requests('/v1/chat/completions')).toHaveLength(1);
    expect((await account.agent.get('/api/usage')).body.totals).toMatchObject({ calls: 1 });

    // A larger budget lets calls through again at once.
    await setBudget(account, 100);
    expect((await variants(account)).status).toBe(200);
    expect((await account.agent.get('/api/usage/balance')).body).toMatchObject({ alert: 'none', calls: 2 });
    await setBudget(account, null);
    expect((await generate(account)).status).toBe(200);
  });

  it('turns AI off with a budget of 0, and says so in the balance', async () => {
    const account = await accountWithSimulator();
    await setBudget(account, 0);
    expect((await account.agent.get('/api/usage/balance')).body).toMatchObject({ budgetUsd: 0, spentUsd: 0, percentUsed: 100, alert: 'exceeded' });
    expect((await generate(account)).status).toBe(429);
    expect((await variants(account)).status).toBe(429);
    expect(await ai.requests('/v1/chat/completions')).toEqual([]);
  });

  it('is checked again by the AI activities themselves, which fail for good rather than call the model', async () => {
    const account = await accountWithSimulator();
    await setBudget(account, 0);
    const config = stack.deps.config;
    const activities = aiActivities({ orm: stack.orm, box: secretBoxFor(config), ai: aiDepsFromConfig(config) });
    const tenantId = account.user.tenantId;
    const generationId = randomUUID();
    await stack.orm.em
      .getConnection()
      .execute(`insert into ai_generations (id, tenant_id, prompt, status) values (?, ?, 'A flow', 'running')`, [generationId, tenantId]);

    const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);
    for (const attempt of [
      activities.draftFlow({ generationId, tenantId }),
      activities.draftTemplateVariants({ tenantId, reference: 'variants/test', request: { text: 'Hi {{1}}, your order is ready.', count: 1 } }),
    ]) {
      const err = await failure(attempt);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'ai_budget_exceeded', nonRetryable: true, message: expect.stringMatching(/AI budget .* is used up/) });
    }
    expect(await ai.requests('/v1/chat/completions')).toEqual([]);
  });
});
