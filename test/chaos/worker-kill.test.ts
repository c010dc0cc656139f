import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchTenant } from '../../bench/tenants';
import type { RecordedMessage } from '../../dev/whatsapp-simulator/state';
import type { ManagedProcess } from '../../dev/supervise';
import { newPhones } from '../support/campaigns';
import { eventually } from '../support/journey-stack';
import { openChaosStack, type ChaosStack } from './stack';

/**
 * The worker process (Temporal worker and inbox dispatcher) killed with SIGKILL while it runs many journeys
 * and then a campaign, and another one started: every journey goes on where it was, every message is sent
 * exactly once, counted at the simulator. The simulator holds each send for a while before answering, as Meta
 * does, so the kill always finds sends whose message went out but whose answer the worker never read.
 */
let stack: ChaosStack;
const workers: ManagedProcess[] = [];

beforeAll(async () => {
  stack = await openChaosStack();
  await stack.sim.configure({ sendLatencyMs: 150 });
  workers.push(await stack.startWorker());
}, 240_000);
afterAll(async () => stack?.close());

/** Sends, questions and a timer: at any moment some journeys are sending, some waiting for a reply, some for the timer. */
const conversation = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'name', type: 'question', data: { text: 'What is your name?', variable: 'name' } },
    { id: 'one', type: 'send_text', data: { text: 'Hello {{name}}, one.' } },
    { id: 'pause', type: 'wait', data: { mode: 'duration', seconds: 2 } },
    { id: 'two', type: 'send_text', data: { text: 'Two, {{name}}.' } },
    { id: 'three', type: 'send_text', data: { text: 'Three, {{name}}.' } },
    { id: 'colour', type: 'question', data: { text: 'Favourite colour, {{name}}?', variable: 'colour' } },
    { id: 'last', type: 'send_text', data: { text: '{{colour}} it is, {{name}}.' } },
    { id: 'done', type: 'end', data: {} },
  ],
  edges: [
    { source: 'start', target: 'name' },
    { source: 'name', target: 'one' },
    { source: 'one', target: 'pause' },
    { source: 'pause', target: 'two' },
    { source: 'two', target: 'three' },
    { source: 'three', target: 'colour' },
    { source: 'colour', target: 'last' },
    { source: 'last', target: 'done' },
  ],
};

const expected = (i: number) => [
  '[template:chaos_hello]',
  'What is your name?',
  `Hello C${i}, one.`,
  `Two, C${i}.`,
  `Three, C${i}.`,
  `Favourite colour, C${i}?`,
  `Blue${i} it is, C${i}.`,
];

const describeMessage = (m: RecordedMessage) => {
  const body = m.body as { type: string; text?: { body: string }; template?: { name: string } };
  return body.type === 'text' ? body.text!.body : `[${body.type}:${body.template?.name}]`;
};

async function byRecipient(line: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of await stack.sim.messages({ phoneNumberId: line })) out.set(m.waId, [...(out.get(m.waId) ?? []), describeMessage(m)]);
  return out;
}

const api = (tenant: BenchTenant, method: string, route: string, body?: unknown) =>
  fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${tenant.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Until every phone has at least n messages. */
const allHave = (line: string, phones: string[], n: number, what: string, timeoutMs = 120_000) =>
  eventually(async () => {
    const got = await byRecipient(line);
    return phones.every((p) => (got.get(p) ?? []).length >= n) ? got : undefined;
  }, what, timeoutMs);

async function inParallel<T>(items: T[], limit: number, run: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let i = next++; i < items.length; i = next++) await run(items[i], i);
  }));
}

describe('the worker killed with SIGKILL and started again', () => {
  it('every journey goes on where it was, and every message is sent exactly once', async () => {
    const tenant = await stack.tenant('chaos_journeys', conversation);
    const line = tenant.line.phoneNumberId;
    // The outbound route takes 30 triggers a minute per tenant.
    const phones = newPhones(30).map((p) => p.replace(/\D/g, ''));
    await inParallel(phones, 10, async (phone) => {
      const res = await api(tenant, 'POST', '/api/webhook/outbound', { phone: `+${phone}`, flowId: tenant.flowId, templateName: 'chaos_hello' });
      expect(res.status).toBe(200);
    });
    await allHave(line, phones, 1, 'the opening templates');
    await inParallel(phones, 10, async (phone) => void (await stack.sim.inbound({ from: phone, phoneNumberId: line, text: 'hi' })));
    await allHave(line, phones, 2, 'the first questions');

    // The customers answer over three seconds; the worker dies in the middle of it.
    const answering = inParallel(phones, 30, async (phone, i) => {
      await sleep(i * 100);
      await stack.sim.inbound({ from: phone, phoneNumberId: line, text: `C${i}` });
    });
    await eventually(async () => {
      const got = await byRecipient(line);
      return [...got.values()].reduce((n, m) => n + m.length, 0) >= phones.length * 2 + 25 ? true : undefined;
    }, 'the journeys to be under way');
    await workers[0].kill();
    await workers[0].exited;
    const atKill = await byRecipient(line);
    const progressed = phones.map((p) => atKill.get(p)?.length ?? 0);
    // Caught in every state: still waiting for the name, sending, waiting for the timer.
    expect(progressed.some((n) => n === 2)).toBe(true);
    expect(progressed.some((n) => n > 2 && n < 6)).toBe(true);
    await answering;

    workers.push(await stack.startWorker());
    await allHave(line, phones, 6, 'every journey to ask for the colour');
    await inParallel(phones, 10, async (phone, i) => void (await stack.sim.inbound({ from: phone, phoneNumberId: line, text: `Blue${i}` })));
    await allHave(line, phones, 7, 'every journey to finish');
    // Long enough for a second copy of a message, if one was coming.
    await sleep(3_000);
    const got = await byRecipient(line);
    for (const [i, phone] of phones.entries()) expect({ phone, messages: got.get(phone) }).toEqual({ phone, messages: expected(i) });
  }, 300_000);

  it('a campaign goes on from where it was: nobody gets two messages, nobody none', async () => {
    const tenant = await stack.tenant('chaos_campaign');
    const line = tenant.line.phoneNumberId;
    await stack.sim.configure({ rateLimitPerSecond: 80 });
    const phones = newPhones(600);
    const res = await api(tenant, 'POST', '/api/templates/bulk-send', { templateName: 'chaos_sale', recipients: phones });
    expect(res.status).toBe(202);
    const { campaignId } = (await res.json()) as { campaignId: string };

    await eventually(async () => ((await stack.sim.messages({ phoneNumberId: line })).length >= 150 ? true : undefined), 'the campaign to be under way', 60_000);
    const worker = workers.at(-1)!;
    await worker.kill();
    await worker.exited;
    expect((await stack.sim.messages({ phoneNumberId: line })).length).toBeLessThan(600);

    workers.push(await stack.startWorker());
    const done = await eventually(async () => {
      const campaign = (await (await api(tenant, 'GET', `/api/campaigns/${campaignId}`)).json()) as { status: string; progress: Record<string, number> };
      return campaign.status === 'completed' ? campaign : undefined;
    }, 'the campaign to complete on the new worker', 240_000);
    expect(done.progress).toMatchObject({ total: 600, queued: 0, failed: 0, skipped: 0 });
    await sleep(2_000);
    const got = await byRecipient(line);
    const digits = phones.map((p) => p.replace(/\D/g, ''));
    expect({ missing: digits.filter((d) => !got.has(d)), duplicated: digits.filter((d) => got.get(d)!.length > 1) }).toEqual({ missing: [], duplicated: [] });
    expect(await stack.sim.rejections({ code: 130429 })).toEqual([]);
  }, 300_000);
});
