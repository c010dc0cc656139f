import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchTenant } from '../../bench/tenants';
import { customerText, signed } from '../../bench/webhooks';
import type { ManagedProcess } from '../../dev/supervise';
import type { RecordedMessage } from '../../dev/whatsapp-simulator/state';
import { newPhones } from '../support/campaigns';
import { eventually } from '../support/journey-stack';
import { openChaosStack, type ChaosStack } from './stack';

/**
 * The Temporal server, then PostgreSQL, killed and started again under the running API and worker. While one
 * is down the API answers what needs it with 503 and an {"error"} body, and keeps answering everything else;
 * a webhook it accepted (200) is never lost, one it refused (503) is delivered again by Meta and then
 * accepted; once the server is back everything works again, with the same API and worker processes.
 */
let stack: ChaosStack;
let worker: ManagedProcess;
let tenant: BenchTenant;
let phones: string[];

const conversation = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'name', type: 'question', data: { text: 'What is your name?', variable: 'name' } },
    { id: 'thanks', type: 'send_text', data: { text: 'Thanks, {{name}}.' } },
    { id: 'colour', type: 'question', data: { text: 'Favourite colour?', variable: 'colour' } },
    { id: 'last', type: 'send_text', data: { text: '{{colour}}, noted.' } },
    { id: 'done', type: 'end', data: {} },
  ],
  edges: [
    { source: 'start', target: 'name' },
    { source: 'name', target: 'thanks' },
    { source: 'thanks', target: 'colour' },
    { source: 'colour', target: 'last' },
    { source: 'last', target: 'done' },
  ],
};

beforeAll(async () => {
  stack = await openChaosStack();
  // Meta retries a webhook that was not answered 200 for a long time; the simulator, for about 3 minutes here.
  await stack.sim.configure({ webhookRetries: 10, webhookRetryDelayMs: 200 });
  worker = await stack.startWorker();
  tenant = await stack.tenant('chaos_outages', conversation);
  phones = newPhones(10).map((p) => p.replace(/\D/g, ''));
  for (const phone of phones) expect((await trigger(phone)).status).toBe(200);
  await allHave(phones, 1, 'the opening templates');
  for (const phone of phones) expect((await customerSays(phone, `hi-${phone}`, 'hi')).status).toBe(200);
  await allHave(phones, 2, 'the first questions');
}, 240_000);
afterAll(async () => stack?.close());

const timed = async <T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = Date.now();
  const value = await call();
  return { value, ms: Date.now() - t0 };
};

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${tenant.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
const trigger = (phone: string) => api('POST', '/api/webhook/outbound', { phone: `+${phone}`, flowId: tenant.flowId, templateName: 'chaos_hello' });

/** The customer's message as Meta posts it: signed, with its own message id (the same id when Meta redelivers it). */
function customerSays(phone: string, wamid: string, text: string): Promise<Response> {
  const hook = signed(customerText(tenant.line, phone, `wamid.${wamid}`, text), stack.appSecret);
  return fetch(`${stack.apiUrl}/api/webhook/whatsapp`, { method: 'POST', headers: hook.headers, body: new Uint8Array(hook.body), signal: AbortSignal.timeout(60_000) });
}

const describeMessage = (m: RecordedMessage) => {
  const body = m.body as { type: string; text?: { body: string }; template?: { name: string } };
  return body.type === 'text' ? body.text!.body : `[${body.type}:${body.template?.name}]`;
};

async function byRecipient(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of await stack.sim.messages({ phoneNumberId: tenant.line.phoneNumberId })) out.set(m.waId, [...(out.get(m.waId) ?? []), describeMessage(m)]);
  return out;
}

const allHave = (of: string[], n: number, what: string, timeoutMs = 120_000) =>
  eventually(async () => {
    const got = await byRecipient();
    return of.every((p) => (got.get(p) ?? []).length >= n) ? got : undefined;
  }, what, timeoutMs);

/** Until the API answers `call` with 2xx again (it is the same process: nothing restarts it). */
const recovers = (call: () => Promise<Response>, what: string) =>
  eventually(async () => {
    const res = await call().catch(() => undefined);
    return res && res.status < 300 ? res : undefined;
  }, what, 90_000);

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ error: expect.any(String) });
}

describe('the Temporal server killed under the running API and worker', () => {
  it('answers 503 for what needs Temporal, keeps accepting webhooks, and loses none of them', async () => {
    await stack.temporal.kill();

    const refused = await timed(() => trigger(newPhones(1)[0].replace(/\D/g, '')));
    await expectUnavailable(refused.value);
    expect(refused.ms).toBeLessThan(10_000);
    const health = await api('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unavailable', temporal: { ok: false } });
    // What needs only the database still works.
    expect((await api('GET', '/api/flows')).status).toBe(200);
    // The customers answer meanwhile: stored, answered 200, handled once Temporal is back.
    for (const [i, phone] of phones.entries()) expect((await customerSays(phone, `name-${phone}`, `Name${i}`)).status).toBe(200);
    await sleep(3_000);

    await stack.temporal.start();
    await recovers(() => api('GET', '/api/health'), 'the API to report itself healthy');
    const later = newPhones(1)[0].replace(/\D/g, '');
    await recovers(() => trigger(later), 'triggers to be accepted again');
    await allHave([later], 1, 'the journey triggered after the outage to send its template');
    await allHave(phones, 4, 'every answer given during the outage to be handled');
    expect(stack.apiAlive()).toBe(true);
    expect(worker.exitInfo()).toBeUndefined();
  }, 300_000);
});

describe('PostgreSQL killed under the running API and worker', () => {
  it('answers 503 with {"error"} while it is down, and handles the webhooks Meta redelivers once it is back', async () => {
    await stack.postgres.kill();

    const hook = await timed(() => customerSays(phones[0], `colour-${phones[0]}`, 'Blue0'));
    await expectUnavailable(hook.value);
    expect(hook.ms).toBeLessThan(20_000);
    await expectUnavailable(await api('GET', '/api/flows'));
    await expectUnavailable(await trigger(newPhones(1)[0].replace(/\D/g, '')));
    const health = await api('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unavailable', database: { ok: false } });
    await sleep(3_000);

    await stack.postgres.start();
    await recovers(() => api('GET', '/api/health'), 'the API to report itself healthy');
    // Meta delivers again what was refused, and the rest of the customers answer.
    for (const [i, phone] of phones.entries()) {
      const res = await recovers(() => customerSays(phone, `colour-${phone}`, `Blue${i}`), 'the webhook to be accepted');
      expect(res.status).toBe(200);
    }
    const got = await allHave(phones, 5, 'every journey to finish');
    await sleep(3_000);
    expect(await byRecipient()).toEqual(got);
    for (const [i, phone] of phones.entries()) {
      expect({ phone, messages: got.get(phone) }).toEqual({
        phone,
        messages: ['[template:chaos_hello]', 'What is your name?', `Thanks, Name${i}.`, 'Favourite colour?', `Blue${i}, noted.`],
      });
    }
    expect(stack.apiAlive()).toBe(true);
    expect(worker.exitInfo()).toBeUndefined();
  }, 300_000);
});
