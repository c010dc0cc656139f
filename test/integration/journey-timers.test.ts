import { NativeConnection, type Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createWorker } from '../../workers/worker';
import { whatsappInboundHandler } from '../../workers/handlers/whatsapp-inbound';
import { signalJourney } from '../../core/journey/signal';
import type { JourneyKey, JourneyState } from '../../core/journey/types';
import type { TemporalHandle } from '../../core/temporal/connect';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { resolveTemporalTestServer } from '../../dev/tools';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { allSearchAttributeKeys } from '../../core/temporal/search-attributes';
import { openTestStack, type TestStack } from '../support/stack';
import { startWhatsAppSimulator, type SimulatorProcess } from '../support/whatsapp-simulator-process';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { eventually } from '../support/journey-stack';

/**
 * Timers measured in days, on Temporal's time-skipping test server: the journey, its activities, the
 * database and the simulator are all real; only the clock of the workflows runs fast.
 */
let env: TestWorkflowEnvironment;
let stack: TestStack;
let sim: SimulatorProcess;
let owner: TestAccount;
let worker: Worker;
let running: Promise<void>;
let temporal: TemporalHandle;
let lineId: string;
const phoneNumberId = `3000${Date.now() % 1_000_000}`;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: resolveTemporalTestServer() } } });
  // The test server answers AddSearchAttributes but not ListSearchAttributes, so add them directly.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(allSearchAttributeKeys.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
  });
  stack = await openTestStack();
  sim = await startWhatsAppSimulator();
  owner = await signedInAccount(stack);
  const line = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId, wabaId: '2000002', displayPhoneNumber: '+15550002222', accessToken: sim.accessToken });
  lineId = line.body.id;
  const taskQueue = `timers-${Date.now()}`;
  temporal = { client: env.client, connection: env.connection, namespace: env.namespace ?? 'default', taskQueue };
  const config = { ...stack.deps.config, temporal: { ...stack.deps.config.temporal, taskQueue }, whatsapp: { ...stack.deps.config.whatsapp, graphUrl: sim.url } };
  worker = await createWorker({ config, orm: stack.orm, logger, connection: env.nativeConnection as NativeConnection });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sim?.stop();
  await stack?.close();
  await env?.teardown();
});

async function publish(graph: object): Promise<{ id: string }> {
  const created = await owner.agent.post('/api/flows').send({ name: 'Timers', graph });
  await owner.agent.post(`/api/flows/${created.body.id}/versions`);
  await owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' });
  return { id: created.body.id };
}

const texts = async (to: string) => (await sim.messages({ to })).map((m) => (m.body as { type: string; text?: { body: string } }).text?.body ?? `[${(m.body as { type: string }).type}]`);

/** The customer writes, through the same handler the inbox dispatcher runs for a webhook. */
async function customerSays(key: JourneyKey, text: string, id: string) {
  const handle = whatsappInboundHandler({ temporal });
  await handle(
    {
      id: '0',
      provider: 'whatsapp',
      dedupeKey: id,
      kind: 'message',
      phoneNumberId,
      tenantId: key.tenantId,
      payload: { kind: 'message', messageId: id, timestamp: Math.floor(Date.now() / 1000), contact: { waId: key.contact, name: 'Tal' }, content: { type: 'text', text }, raw: { from: key.contact } },
      receivedAt: new Date(),
      attempts: 1,
      lastError: null,
    },
    { em: stack.orm.em.fork(), logger },
  );
}

describe('time-based nodes on the time-skipping server', () => {
  it('waits two days, then sends; a reply wait that times out takes its timeout exit', async () => {
    const flow = await publish({
      nodes: [
        { id: 'start', type: 'trigger_outbound', data: {} },
        { id: 'pause', type: 'wait', data: { mode: 'duration', seconds: 2 * 24 * 3600 } },
        { id: 'nudge', type: 'send_text', data: { text: 'Two days later: still interested, {{customerName}}?' } },
        { id: 'listen', type: 'wait', data: { mode: 'reply', timeoutSeconds: 24 * 3600, variable: 'answer' } },
        { id: 'thanks', type: 'send_text', data: { text: 'Thanks: {{answer}}' } },
        { id: 'missed', type: 'send_text', data: { text: 'We missed you, {{customerName}}.' } },
      ],
      edges: [
        { source: 'start', target: 'pause' },
        { source: 'pause', target: 'nudge' },
        { source: 'nudge', target: 'listen' },
        { source: 'listen', sourceHandle: 'next', target: 'thanks' },
        { source: 'listen', sourceHandle: 'timeout', target: 'missed' },
      ],
    });
    const contact = `97253${Date.now() % 1_000_000}`;
    const key: JourneyKey = { tenantId: owner.user.tenantId, channel: 'whatsapp', lineId, contact };
    await signalJourney(temporal, key, {
      name: 'trigger',
      arg: { triggerId: 't1', flowId: flow.id, variables: { customerName: 'Tal' }, policy: 'supersede', startNodeType: 'trigger_outbound', template: { name: 'hello', language: 'en', params: [] } },
    });
    await eventually(async () => ((await texts(contact)).length === 1 ? true : undefined), 'the opening template');
    await customerSays(key, 'ok', `wamid.timer-${contact}`);
    const handle = env.client.workflow.getHandle(journeyWorkflowId(key));
    await eventually(async () => ((await handle.query<JourneyState>('state')).currentNode === 'pause' ? true : undefined), 'the two-day wait');
    expect(await texts(contact)).toEqual(['[template]']);

    await env.sleep('2 days');
    await eventually(async () => ((await texts(contact)).length === 2 ? true : undefined), 'the message after two days');
    expect((await texts(contact))[1]).toBe('Two days later: still interested, Tal?');

    // A day passes in workflow time without a reply: the wait leaves through its timeout exit. (The send
    // checks the 24 h window on the real clock, as Meta does, so "ok" still holds it open.)
    await env.sleep('25 hours');
    const state = await eventually(async () => {
      const s = await handle.query<JourneyState>('state');
      return s.status === 'idle' ? s : undefined;
    }, 'the reply wait to time out');
    expect(await texts(contact)).toEqual(['[template]', 'Two days later: still interested, Tal?', 'We missed you, Tal.']);
    expect(state.history.at(-1)).toMatchObject({ outcome: 'completed' });
  });

  it('stops a flow that loops without waiting, with a clear failure', async () => {
    const flow = await publish({
      nodes: [
        { id: 'start', type: 'trigger_outbound', data: {} },
        { id: 'a', type: 'set_variable', data: { variable: 'n', value: 'x{{n}}' } },
        { id: 'b', type: 'condition', data: { rules: [{ variable: 'n', operator: 'is_set', value: '' }] } },
      ],
      edges: [
        { source: 'start', target: 'a' },
        { source: 'a', target: 'b' },
        { source: 'b', sourceHandle: 'true', target: 'a' },
      ],
    });
    const key: JourneyKey = { tenantId: owner.user.tenantId, channel: 'whatsapp', lineId, contact: `97254${Date.now() % 1_000_000}` };
    await signalJourney(temporal, key, { name: 'trigger', arg: { triggerId: 'loop', flowId: flow.id, variables: {}, policy: 'supersede' } });
    const handle = env.client.workflow.getHandle(journeyWorkflowId(key));
    const state = await eventually(async () => {
      const s = await handle.query<JourneyState>('state').catch(() => undefined);
      return s?.lastError ? s : undefined;
    }, 'the step budget to stop the loop');
    expect(state.lastError).toMatch(/step budget exceeded: 200 nodes ran without waiting, last at node "(a|b)"/);
    expect(state.status).toBe('idle');
  });
});
