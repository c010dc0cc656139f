import { apiTokenFor } from '../support/accounts';
import { deliveryGaps, newPhones, waitForCampaign } from '../support/campaigns';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { startStackWorker, type WorkerProcess } from '../support/worker-process';
import type { RecordedMessage } from '../../dev/whatsapp-simulator/state';

/**
 * A flaky Cloud API: the simulator refuses a share of sends at random (5xx, 130429) from a seeded generator.
 * Whatever it refuses is tried again, and what it accepted is never sent again: every message of every
 * journey and of a campaign arrives once, in order.
 */
let js: JourneyStack;
let worker: WorkerProcess;
let token: string;
let flowId: string;

/** Opening template (from the trigger), a question once the customer writes, then two texts after the answer. */
const conversation = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'name', type: 'question', data: { text: 'What is your name?', variable: 'name' } },
    { id: 'hello', type: 'send_text', data: { text: 'Nice to meet you, {{name}}.' } },
    { id: 'offer', type: 'send_text', data: { text: 'Here is our offer, {{name}}.' } },
    { id: 'done', type: 'end', data: {} },
  ],
  edges: [
    { source: 'start', target: 'name' },
    { source: 'name', target: 'hello' },
    { source: 'hello', target: 'offer' },
    { source: 'offer', target: 'done' },
  ],
};

// The worker in a process of its own, as deployed (and its logs of the refused sends out of the test's output).
beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  worker = await startStackWorker(js);
  token = await apiTokenFor(js.stack, js.owner.user);
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Flaky provider', graph: conversation });
  flowId = created.body.id;
  expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
  expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' })).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await js?.close();
});
beforeEach(async () => js.sim.reset());

const describeMessage = (m: RecordedMessage) => {
  const body = m.body as { type: string; text?: { body: string }; template?: { name: string } };
  return body.type === 'text' ? body.text!.body : `[${body.type}:${body.template?.name}]`;
};

async function messagesByRecipient(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of await js.sim.messages({ phoneNumberId: js.line.phoneNumberId })) out.set(m.waId, [...(out.get(m.waId) ?? []), describeMessage(m)]);
  return out;
}

/** Every customer, at once, through the whole conversation: trigger, "hi", their name. */
async function runConversations(phones: string[]): Promise<void> {
  const until = (phone: string, n: number) =>
    eventually(async () => (((await messagesByRecipient()).get(phone) ?? []).length >= n ? true : undefined), `${n} messages to ${phone}`, 60_000);
  await Promise.all(
    phones.map(async (phone, i) => {
      const res = await js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send({ phone: `+${phone}`, flowId, templateName: 'hello_utility' });
      expect(res.status).toBe(200);
      await until(phone, 1);
      await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hi' });
      await until(phone, 2);
      await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: `Customer ${i}` });
      await until(phone, 4);
    }),
  );
}

/** What every journey must have received: each message once, in order, and nothing after. */
async function expectEachMessageOnce(phones: string[]): Promise<void> {
  // Long enough for a duplicate (a retried send that had gone out) to arrive too.
  await new Promise((r) => setTimeout(r, 1_500));
  const got = await messagesByRecipient();
  for (const [i, phone] of phones.entries()) {
    expect({ phone, messages: got.get(phone) }).toEqual({
      phone,
      messages: ['[template:hello_utility]', 'What is your name?', `Nice to meet you, Customer ${i}.`, `Here is our offer, Customer ${i}.`],
    });
  }
}

/** The random failures the simulator answered, by code. */
async function randomFailures(): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const r of await js.sim.rejections()) if (r.reason === 'random') counts[r.code] = (counts[r.code] ?? 0) + 1;
  return counts;
}

const digits = (phones: string[]) => phones.map((p) => p.replace(/\D/g, ''));

describe('the simulator refusing sends at random', () => {
  it('is repeatable: the same seed refuses the same sends, and bad rates are a 400', async () => {
    const send = (to: string) =>
      fetch(`${js.sim.url}/v25.0/${js.line.phoneNumberId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${js.sim.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'text', text: { body: 'x' } }),
      });
    const run = async () => {
      await js.sim.configure({ failureRates: { serverError: 0.3, throughput: 0.2, seed: 7 } });
      const answers: Array<{ status: number; code?: number }> = [];
      for (let i = 0; i < 60; i++) {
        const res = await send(`97250100${String(i).padStart(4, '0')}`);
        const body = (await res.json()) as { error?: { code: number; message: string } };
        answers.push({ status: res.status, code: body.error?.code });
      }
      return answers;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const statuses = first.map((a) => `${a.status}/${a.code ?? 'ok'}`);
    expect(new Set(statuses)).toEqual(new Set(['200/ok', '500/131000', '503/2', '400/130429']));
    expect(statuses.filter((s) => s !== '200/ok').length).toBeGreaterThan(15);

    const bad = await fetch(`${js.sim.url}/_sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failureRates: { serverError: 0.8, throughput: 0.5 } }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'failureRates: the shares add up to more than 1' });
  });
});

describe('every message delivered exactly once through a flaky provider', () => {
  it('journeys, with 5xx on 20 % of sends', async () => {
    await js.sim.configure({ failureRates: { serverError: 0.2, seed: 5 } });
    const phones = digits(newPhones(10));
    await runConversations(phones);
    await expectEachMessageOnce(phones);
    const failures = await randomFailures();
    expect((failures[131000] ?? 0) + (failures[2] ?? 0)).toBeGreaterThan(0);
  }, 120_000);

  it('journeys, with 5xx on 20 % and 130429 on 10 % of sends', async () => {
    await js.sim.configure({ failureRates: { serverError: 0.2, throughput: 0.1, seed: 11 } });
    const phones = digits(newPhones(10));
    await runConversations(phones);
    await expectEachMessageOnce(phones);
    const failures = await randomFailures();
    expect((failures[131000] ?? 0) + (failures[2] ?? 0)).toBeGreaterThan(0);
    expect(failures[130429]).toBeGreaterThan(0);
  }, 120_000);

  it.each([
    ['5xx on 20 %', { serverError: 0.2, seed: 3 }],
    ['5xx on 20 % and 130429 on 10 %', { serverError: 0.2, throughput: 0.1, seed: 9 }],
  ])('a campaign, with %s of sends', async (_what, failureRates) => {
    await js.sim.configure({ failureRates });
    const phones = newPhones(150);
    const res = await js.stack.http().post('/api/templates/bulk-send').set('Authorization', `Bearer ${token}`).send({ templateName: 'spring_sale', recipients: phones });
    expect(res.status).toBe(202);
    const done = await waitForCampaign(js.owner, res.body.campaignId, (c) => c.status === 'completed', 'the campaign to complete', 90_000);
    expect(done.progress).toMatchObject({ total: 150, queued: 0, failed: 0, skipped: 0 });
    expect(await deliveryGaps(js, phones, js.line.phoneNumberId)).toEqual({ missing: [], duplicated: [] });
    expect(Object.values(await randomFailures()).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  }, 120_000);
});
