import { RateGovernor, linePace } from '../../core/channels/rate-governor';
import { upsertConversation } from '../../core/conversations/store';
import { openOrm, type Orm } from '../../core/db/orm';
import { signedInAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let otherProcessOrm: Orm;
let lineSeq = 0;

beforeAll(async () => {
  stack = await openTestStack();
  // A second connection pool stands for another worker process: the governor must hold across both.
  otherProcessOrm = await openOrm(process.env.TEST_DATABASE_URL!);
});
afterAll(async () => {
  await otherProcessOrm?.close();
  await stack?.close();
});

async function newLine(ratePerSecond: number): Promise<{ id: string; phoneNumberId: string; tenantId: string }> {
  const owner = await signedInAccount(stack);
  const phoneNumberId = `7${process.pid}${lineSeq++}${Date.now() % 100000}`;
  const created = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId, wabaId: '3000001', accessToken: 'token-of-the-line-0001' });
  expect(created.status).toBe(201);
  const updated = await owner.agent.put(`/api/settings/whatsapp/${created.body.id}`).send({ ratePerSecond });
  expect(updated.status).toBe(200);
  expect(updated.body.ratePerSecond).toBe(ratePerSecond);
  return { id: created.body.id, phoneNumberId, tenantId: owner.user.tenantId };
}

/** The most turns in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** When each of `n` sends to one recipient got its turn, in ms from the first ask. */
async function turnTimes(governor: RateGovernor, phoneNumberId: string, contact: string, n: number): Promise<number[]> {
  const started = performance.now();
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    await governor.waitForTurn({ phoneNumberId, contact });
    at.push(performance.now() - started);
  }
  return at;
}

describe('the per-line send governor', () => {
  it('paces a line at its configured rate across two processes: never more in any second, and close to the rate', async () => {
    const line = await newLine(40);
    const here = new RateGovernor(stack.orm);
    const there = new RateGovernor(otherProcessOrm);
    const turns: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await (i % 2 ? here : there).waitForTurn({ phoneNumberId: line.phoneNumberId });
        turns.push(performance.now());
      }),
    );
    const elapsed = (Math.max(...turns) - started) / 1000;
    expect(busiestWindow(turns, 1000)).toBeLessThanOrEqual(40);
    // 100 sends at 40/s: the first goes at once, the rest 1/(40 × headroom) s apart.
    const achieved = 99 / elapsed;
    expect(achieved).toBeGreaterThan(40 * 0.93);
    expect(achieved).toBeLessThanOrEqual(40);
  });

  it('does not bunch the sends of a process that stalled: never more than the rate in any second', async () => {
    const line = await newLine(40);
    const governor = new RateGovernor(stack.orm);
    const turns: number[] = [];
    const sends = Array.from({ length: 90 }, async () => {
      await governor.waitForTurn({ phoneNumberId: line.phoneNumberId });
      turns.push(performance.now());
    });
    // Twice, the event loop is blocked for 150 ms (a long GC, a busy neighbour): the sends due meanwhile wake late.
    for (const at of [400, 1300]) {
      setTimeout(() => {
        const until = performance.now() + 150;
        while (performance.now() < until);
      }, at);
    }
    await Promise.all(sends);
    expect(busiestWindow(turns, 1000)).toBeLessThanOrEqual(40);
    expect(governor.stats.retakes + governor.stats.guardWaits).toBeGreaterThan(0);
  });

  it('holds the line to its rate when two stalled processes both send late: the ceiling is the line\'s, not each process\'s', async () => {
    const line = await newLine(40);
    // No retaking of late slots: only the line's shared ceiling stands between a stall and a burst.
    const here = new RateGovernor(stack.orm, { maxRetakes: 0 });
    const there = new RateGovernor(otherProcessOrm, { maxRetakes: 0 });
    const turns: number[] = [];
    const sends = Array.from({ length: 90 }, async (_, i) => {
      await (i % 2 ? here : there).waitForTurn({ phoneNumberId: line.phoneNumberId });
      turns.push(performance.now());
    });
    for (const at of [400, 1300]) {
      setTimeout(() => {
        const until = performance.now() + 200;
        while (performance.now() < until);
      }, at);
    }
    await Promise.all(sends);
    expect(busiestWindow(turns, 1000)).toBeLessThanOrEqual(40);
    expect(here.stats.guardWaits + there.stats.guardWaits).toBeGreaterThan(0);
  });

  it('keeps the provider\'s count of arrivals under the rate when some requests take long to arrive', async () => {
    const line = await newLine(40);
    const governor = new RateGovernor(stack.orm);
    const arrivals: number[] = [];
    // The first sends of every 40 take 120 ms to reach the provider (a slow connection, a busy provider), the
    // rest arrive at once: sent exactly on schedule, a slow one and the on-time one 40 sends later would
    // arrive less than a second apart.
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        governor.send({ phoneNumberId: line.phoneNumberId }, undefined, async () => {
          if (i % 40 < 4) await new Promise((resolve) => setTimeout(resolve, 120));
          arrivals.push(performance.now());
        }),
      ),
    );
    expect(arrivals).toHaveLength(100);
    expect(busiestWindow(arrivals, 1000)).toBeLessThanOrEqual(40);
    expect(governor.stats.guardWaits).toBeGreaterThan(0);
  });

  it('hands out consecutive slots to a batch, spaced by the line rate', async () => {
    const line = await newLine(50);
    const governor = new RateGovernor(stack.orm, { headroom: 1 });
    const askedAt = performance.now();
    const slots = await governor.acquireSendSlots(line.phoneNumberId, 10);
    expect(slots).toHaveLength(10);
    expect(slots[0]).toBeLessThan(5);
    for (let i = 1; i < slots.length; i++) expect(slots[i] - slots[i - 1]).toBeCloseTo(20, 3);
    // The next caller's first slot comes after the batch (waits are relative to each call: compare instants).
    const askedAgainAt = performance.now();
    const [next] = await governor.acquireSendSlots(line.phoneNumberId, 1);
    expect(askedAgainAt + next).toBeGreaterThan(askedAt + slots[9] + 15);
    expect(await governor.acquireSendSlots('999999999', 3)).toEqual([]);
  });

  it('lets a recipient get a short burst, then one message per pair interval', async () => {
    const line = await newLine(80);
    const contact = '972500000123';
    await upsertConversation(stack.orm.em.fork(), { tenantId: line.tenantId, channel: 'whatsapp', lineId: line.id, contact });
    const governor = new RateGovernor(stack.orm, { pairIntervalMs: 300, pairBurst: 3 });
    const at = await turnTimes(governor, line.phoneNumberId, contact, 6);
    expect(at[2]).toBeLessThan(100);
    for (const i of [3, 4, 5]) expect(at[i]).toBeGreaterThan(300 * (i - 2) - 30);
    // Another recipient of the line is not held back.
    const other = '972500000124';
    await upsertConversation(stack.orm.em.fork(), { tenantId: line.tenantId, channel: 'whatsapp', lineId: line.id, contact: other });
    const t = performance.now();
    await governor.waitForTurn({ phoneNumberId: line.phoneNumberId, contact: other });
    expect(performance.now() - t).toBeLessThan(100);
  });

  it('holds a recipient to the pair rate on a line they have no conversation on (their reply line, a fallback line)', async () => {
    const line = await newLine(80);
    const contact = '972500000126';
    const governor = new RateGovernor(stack.orm, { pairIntervalMs: 300, pairBurst: 2 });
    const at = await turnTimes(governor, line.phoneNumberId, contact, 4);
    expect(at[1]).toBeLessThan(100);
    for (const i of [2, 3]) expect(at[i]).toBeGreaterThan(300 * (i - 1) - 30);
    expect(await governor.backlogMs({ phoneNumberId: line.phoneNumberId, contact })).toBeGreaterThan(0);
    const [conversations] = await stack.orm.em
      .getConnection()
      .execute<Array<{ n: string }>>(`select count(*) as n from conversations where line_id = ? and contact = ?`, [line.id, contact]);
    expect(Number(conversations.n)).toBe(0);

    // A pair-rate error from the provider holds the recipient back there too.
    const other = '972500000127';
    await governor.rateLimited({ phoneNumberId: line.phoneNumberId, contact: other, code: 131056 });
    expect((await governor.reserve({ phoneNumberId: line.phoneNumberId, contact: other }))!.pairWaitMs).toBeGreaterThan(200);
  });

  it('slows a line down after a throughput error, and holds a recipient back after a pair-rate error', async () => {
    const line = await newLine(100);
    const governor = new RateGovernor(stack.orm);
    await governor.rateLimited({ phoneNumberId: line.phoneNumberId, code: 130429, retryAfterMs: 400 });
    const pace = await linePace(stack.orm, line.id);
    expect(pace).toMatchObject({ ratePerSecond: 100, rateErrors: 1, lastRateErrorCode: 130429 });
    expect(pace!.effectiveRatePerSecond).toBeCloseTo(100 * 0.965 * 0.9, 5);
    expect(pace!.slowedUntil).not.toBeNull();
    // The line pauses a moment, so the provider's one-second window clears.
    const [first] = await governor.acquireSendSlots(line.phoneNumberId, 1);
    expect(first).toBeGreaterThan(150);

    const contact = '972500000125';
    await upsertConversation(stack.orm.em.fork(), { tenantId: line.tenantId, channel: 'whatsapp', lineId: line.id, contact });
    await governor.rateLimited({ phoneNumberId: line.phoneNumberId, contact, code: 131056 });
    const reservation = await governor.reserve({ phoneNumberId: line.phoneNumberId, contact });
    expect(reservation!.pairWaitMs).toBeGreaterThan(5_000);
  });
});
