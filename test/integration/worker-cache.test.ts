import { loadConfig } from '../../core/config';
import { apiTokenFor } from '../support/accounts';
import { questionLoop } from '../support/flows';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The worker keeps at most WORKER_MAX_CACHED_WORKFLOWS workflows in memory (Temporal's sticky cache); a
 * journey pushed out waits in Temporal only and is replayed from its history when its next message comes.
 */

let js: JourneyStack;
let running: InProcessWorker;
let token: string;

beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  const base = js.stack.deps.config;
  running = await startInProcessWorker({ config: { ...base, whatsapp: { ...base.whatsapp, graphUrl: js.sim.url }, workerMaxCachedWorkflows: 2 }, orm: js.stack.orm });
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await js?.close();
});

const textsTo = async (to: string) =>
  (await js.sim.messages({ to })).map((m) => {
    const body = m.body as { type: string; text?: { body: string } };
    return body.type === 'text' ? body.text!.body : `[${body.type}]`;
  });

describe('the workflow cache', () => {
  it('is bounded by WORKER_MAX_CACHED_WORKFLOWS, 500 unless set', () => {
    expect(loadConfig({}).workerMaxCachedWorkflows).toBe(500);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '40' }).workerMaxCachedWorkflows).toBe(40);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    expect(running.worker.options.maxCachedWorkflows).toBe(2);
  });

  it('answers every turn of more waiting journeys than it holds, each exactly once', async () => {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Loop', graph: questionLoop() });
    await js.owner.agent.post(`/api/flows/${created.body.id}/versions`);
    await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' });
    const phones = Array.from({ length: 5 }, (_, i) => `97255${String(Date.now() % 1_000_000).padStart(6, '0')}${i}`);
    for (const phone of phones) {
      const res = await js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send({ phone, flowId: created.body.id, templateName: 'hello_utility' });
      expect(res.status).toBe(200);
    }
    const expected = ['[template]', 'First question?', 'Second question?', 'First question?'];
    // Temporal Core (SDK 1.24) sometimes mishandles evicting a journey whose send (a local activity) is in
    // flight, which a cache of 2 under 5 journeys makes likely: the workflow task then times out and the journey
    // goes on about 10 s later, from its history. Nothing is lost or sent twice, which is what this checks.
    const turnMs = 45_000;
    for (let turn = 1; turn < expected.length; turn++) {
      for (const phone of phones) {
        await eventually(async () => (await textsTo(phone)).length >= turn, `message ${turn} to ${phone}`, turnMs);
        await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: `answer ${turn}`, name: 'Noa' });
      }
    }
    for (const phone of phones) {
      await eventually(async () => (await textsTo(phone)).length >= expected.length, `all messages to ${phone}`, turnMs);
      expect(await textsTo(phone)).toEqual(expected);
    }
    expect(running.worker.getStatus().numCachedWorkflows).toBeLessThanOrEqual(2);
  }, 300_000);
});
