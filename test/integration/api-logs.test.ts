import { openTestStack, type TestStack } from '../support/stack';
import { signedInAccount } from '../support/accounts';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /api/webhook/api-logs', () => {
  it('lists recent API requests with their request id, tenant, status and duration, newest first', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const owner = await signedInAccount(stack);
    await owner.agent.get('/api/users/00000000-0000-4000-8000-000000000000').set('X-Request-Id', 'log-probe-1');
    const entry = await eventually(async () => {
      const res = await admin.agent.get('/api/webhook/api-logs').query({ tenantId: owner.user.tenantId, status: 404 });
      return res.body.logs.find((l: { requestId: string }) => l.requestId === 'log-probe-1');
    });
    expect(entry).toMatchObject({
      method: 'GET',
      path: '/api/users/00000000-0000-4000-8000-000000000000',
      status: 404,
      tenantId: owner.user.tenantId,
      userId: owner.user.id,
      durationMs: expect.any(Number),
    });
    const page = await admin.agent.get('/api/webhook/api-logs').query({ limit: 2 });
    expect(page.body.logs).toHaveLength(2);
    expect(Number(page.body.logs[0].id)).toBeGreaterThan(Number(page.body.logs[1].id));
    expect(page.body.total).toBeGreaterThanOrEqual(2);
  });

  it('is for administrators only', async () => {
    const owner = await signedInAccount(stack);
    expect((await owner.agent.get('/api/webhook/api-logs')).status).toBe(403);
  });
});
