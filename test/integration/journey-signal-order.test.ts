import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { apiTokenFor } from '../support/accounts';
import { questionLoop } from '../support/flows';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * A journey's first workflow task can bring several signals at once: here the outbound trigger that started it
 * and the customer's answer, both sent while no worker was polling (as after a worker crash or a retried first
 * task). The journey must take them in the order they came: the trigger's template first, then the answer.
 */

let js: JourneyStack;
let token: string;
let running: InProcessWorker | undefined;

beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await js?.close();
});

it('takes the signals of its first workflow task in the order they came', async () => {
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Order', graph: questionLoop() });
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

  const base = js.stack.deps.config;
  running = await startInProcessWorker({ config: { ...base, whatsapp: { ...base.whatsapp, graphUrl: js.sim.url } }, orm: js.stack.orm });

  const texts = async () => (await js.sim.messages({ to: phone })).map((m) => ((m.body as { type: string; text?: { body: string } }).text?.body ?? `[${(m.body as { type: string }).type}]`));
  // Taken the other way round, the answer would come to a journey with no flow, and the template would then wait for another.
  await eventually(async () => ((await texts()).length >= 2 ? true : undefined), 'the template and the first question');
  expect(await texts()).toEqual(['[template]', 'First question?']);
});
