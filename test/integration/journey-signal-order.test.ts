import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { createWorker } from '../../workers/worker';
import { apiTokenFor } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * A journey's first workflow task can bring several signals at once: here the outbound trigger that started it
 * and the customer's answer, both sent while no worker was polling (as after a worker crash or a retried first
 * task). The journey must take them in the order they came: the trigger's template first, then the answer.
 */

let js: JourneyStack;
let token: string;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let connection: NativeConnection | undefined;

beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await js?.close();
});

const questionLoop = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'ask1', type: 'question', data: { text: 'First question?', variable: 'a1' } },
    { id: 'ask2', type: 'question', data: { text: 'Second question?', variable: 'a2' } },
  ],
  edges: [
    { source: 'start', target: 'ask1' },
    { source: 'ask1', target: 'ask2' },
    { source: 'ask2', target: 'ask1' },
  ],
};

it('takes the signals of its first workflow task in the order they came', async () => {
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Order', graph: questionLoop });
  await js.owner.agent.post(`/api/flows/${created.body.id}/versions`);
  await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' });
  const phone = `97256${String(Date.now() % 10_000_000).padStart(7, '0')}`;
  const res = await js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send({ phone, flowId: created.body.id, templateName: 'hello_utility' });
  expect(res.status).toBe(200);
  await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'here I am', name: 'Noa' });
  const handle = js.stack.temporal.client.workflow.getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact: phone }));
  // Both signals wait in Temporal, in that order, before any worker has seen the journey.
  await eventually(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    return events.filter((e) => e.workflowExecutionSignaledEventAttributes).length === 2;
  }, 'the trigger and the answer to be signalled');

  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const config = { ...js.stack.deps.config, whatsapp: { ...js.stack.deps.config.whatsapp, graphUrl: js.sim.url } };
  worker = await createWorker({ config, orm: js.stack.orm, logger: pino({ level: 'silent' }), connection });
  running = worker.run();

  const texts = async () => (await js.sim.messages({ to: phone })).map((m) => ((m.body as { type: string; text?: { body: string } }).text?.body ?? `[${(m.body as { type: string }).type}]`));
  // Taken the other way round, the answer would come to a journey with no flow, and the template would then wait for another.
  await eventually(async () => ((await texts()).length >= 2 ? true : undefined), 'the template and the first question');
  expect(await texts()).toEqual(['[template]', 'First question?']);
});
