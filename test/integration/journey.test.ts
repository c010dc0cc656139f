import { createHmac } from 'node:crypto';
import { openJourneyStack, eventually, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor } from '../support/accounts';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import type { JourneyState } from '../../core/journey/types';
import { signalJourney } from '../../core/journey/signal';

let js: JourneyStack;
let token: string;

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);
afterAll(async () => js?.close());

const qualifier = {
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'age', type: 'question', data: { text: 'How old are you, {{customerName}}?', variable: 'age', validation: 'number', invalidText: 'Please answer with a number.' } },
    { id: 'adult', type: 'condition', data: { rules: [{ variable: 'age', operator: 'greater_than', value: '17' }] } },
    { id: 'welcome', type: 'send_text', data: { text: 'Welcome aboard, {{customerName}} ({{age}})!' } },
    { id: 'sorry', type: 'send_text', data: { text: 'Sorry {{customerName}}, you must be 18.' } },
    { id: 'done', type: 'end', data: {} },
  ],
  edges: [
    { source: 'start', target: 'age' },
    { source: 'age', target: 'adult' },
    { source: 'adult', sourceHandle: 'true', target: 'welcome' },
    { source: 'adult', sourceHandle: 'false', target: 'sorry' },
    { source: 'welcome', target: 'done' },
  ],
};

async function publishedFlow(graph: object): Promise<string> {
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Qualifier', graph });
  expect(created.status).toBe(201);
  expect((await js.owner.agent.post(`/api/flows/${created.body.id}/versions`)).status).toBe(201);
  expect((await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' })).status).toBe(200);
  return created.body.id;
}

let phoneSeq = 0;
const newPhone = () => `97250${String(Date.now() % 1_000_000).padStart(6, '0')}${phoneSeq++}`;

const outbound = (body: object) => js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send(body);
const customerSays = (from: string, text: string) => js.sim.inbound({ from, phoneNumberId: js.line.phoneNumberId, text, name: 'Dana' });
const textsTo = async (to: string) =>
  (await js.sim.messages({ to })).map((m) => {
    const body = m.body as { type: string; text?: { body: string }; template?: { name: string } };
    return body.type === 'text' ? body.text!.body : `[${body.type}:${body.template?.name ?? ''}]`;
  });
const sentCount = (to: string, n: number) => eventually(async () => ((await textsTo(to)).length >= n ? textsTo(to) : undefined), `${n} messages to ${to}`);
/** Outbound trigger with the opening template, and the customer's first reply: the question is asked. */
async function startQualifier(flowId: string, phone: string, name: string): Promise<void> {
  expect((await outbound({ phone, flowId, templateName: 'hello_utility', data: { customerName: name } })).status).toBe(200);
  await sentCount(phone, 1);
  await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hi', name });
  expect((await sentCount(phone, 2))[1]).toBe(`How old are you, ${name}?`);
}

const stateOf = (contact: string) =>
  js.stack.temporal.client.workflow
    .getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact }))
    .query<JourneyState>('state');

describe('a whole journey through the WhatsApp simulator', () => {
  it('template first, then the reply continues the flow: question, invalid answer re-asked, valid answer stored, condition branch, end', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    const res = await outbound({ phone: `+${phone}`, flowId, templateName: 'hello_utility', data: { customerName: 'Dana', templateLanguage: 'he', sourceRef: 'crm-1' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: `Outbound flow triggered for +${phone}`, flowId });

    expect(await sentCount(phone, 1)).toEqual(['[template:hello_utility]']);
    const [template] = await js.sim.messages({ to: phone });
    expect(template.body).toMatchObject({ messaging_product: 'whatsapp', type: 'template', template: { name: 'hello_utility', language: { code: 'he' } } });

    await customerSays(phone, 'hi there');
    expect(await sentCount(phone, 2)).toEqual(['[template:hello_utility]', 'How old are you, Dana?']);

    await customerSays(phone, 'old enough');
    expect((await sentCount(phone, 4)).slice(2)).toEqual(['Please answer with a number.', 'How old are you, Dana?']);

    await customerSays(phone, '30');
    expect((await sentCount(phone, 5))[4]).toBe('Welcome aboard, Dana (30)!');

    const state = await eventually(async () => {
      const s = await stateOf(phone);
      return s.status === 'idle' ? s : undefined;
    }, 'the flow to end');
    expect(state.variables).toMatchObject({ age: '30', customerName: 'Dana', sourceRef: 'crm-1' });
    expect(state.history.at(-1)).toMatchObject({ flowId, version: 1, outcome: 'completed' });
    expect(await textsTo(phone)).toHaveLength(5);

    // Status webhooks from the simulator move our message rows forward.
    await js.sim.settled();
    const rows = await eventually(async () => {
      const r = await js.stack.orm.em.getConnection().execute<Array<{ status: string }>>(
        `select m.status from messages m join conversations c on c.id = m.conversation_id where c.contact = ? and m.direction = 'out'`,
        [phone],
      );
      return r.length === 5 && r.every((x) => x.status === 'read') ? r : undefined;
    }, 'every outbound message to be read');
    expect(rows).toHaveLength(5);
  });

  it('processes a webhook that Meta delivers three times as one step', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    await startQualifier(flowId, phone, 'Eli');
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '2000001', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: js.line.phoneNumberId }, contacts: [{ profile: { name: 'Eli' }, wa_id: phone }], messages: [{ from: phone, id: `wamid.dup-${phone}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'nope' } }] } }] }],
    });
    const signature = `sha256=${createHmac('sha256', js.sim.appSecret).update(body).digest('hex')}`;
    for (let i = 0; i < 3; i++) {
      const res = await js.stack.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signature).send(body);
      expect(res.status).toBe(200);
    }
    // One invalid answer: one "please answer" and one re-ask, not three of each.
    expect((await sentCount(phone, 4)).slice(2)).toEqual(['Please answer with a number.', 'How old are you, Eli?']);
    await new Promise((r) => setTimeout(r, 500));
    expect(await textsTo(phone)).toHaveLength(4);
    const [{ count }] = await js.stack.orm.em.getConnection().execute(`select count(*) from webhook_inbox where dedupe_key = ?`, [`wamid.dup-${phone}`]);
    expect(Number(count)).toBe(1);
  });

  it('ignores a webhook with a wrong signature: nothing stored, nothing sent', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    await startQualifier(flowId, phone, 'Fay');
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '2000001', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: js.line.phoneNumberId }, contacts: [{ wa_id: phone }], messages: [{ from: phone, id: `wamid.forged-${phone}`, timestamp: '1', type: 'text', text: { body: '40' } }] } }] }],
    });
    const forged = `sha256=${createHmac('sha256', 'not-the-app-secret').update(body).digest('hex')}`;
    const res = await js.stack.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', forged).send(body);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(await textsTo(phone)).toEqual(['[template:hello_utility]', 'How old are you, Fay?']);
    const [{ count }] = await js.stack.orm.em.getConnection().execute(`select count(*) from webhook_inbox where dedupe_key = ?`, [`wamid.forged-${phone}`]);
    expect(Number(count)).toBe(0);
  });

  it('keeps the variables of two customers apart when they answer at once', async () => {
    const flowId = await publishedFlow(qualifier);
    const [a, b] = [newPhone(), newPhone()];
    await Promise.all([startQualifier(flowId, a, 'Ann'), startQualifier(flowId, b, 'Ben')]);
    await Promise.all([customerSays(a, '41'), customerSays(b, '12')]);
    expect((await sentCount(a, 3))[2]).toBe('Welcome aboard, Ann (41)!');
    expect((await sentCount(b, 3))[2]).toBe('Sorry Ben, you must be 18.');
  });

  it('keeps a running journey on its version when a new version is published', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    await startQualifier(flowId, phone, 'Gil');
    const changed = JSON.parse(JSON.stringify(qualifier));
    changed.nodes.find((n: { id: string }) => n.id === 'welcome').data.text = 'NEW VERSION TEXT';
    expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ graph: changed })).status).toBe(200);
    expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).body.version).toBe(2);
    await customerSays(phone, '25');
    expect((await sentCount(phone, 3))[2]).toBe('Welcome aboard, Gil (25)!');
    // A journey started after publishing takes the new version.
    const later = newPhone();
    await startQualifier(flowId, later, 'Hod');
    await customerSays(later, '25');
    expect((await sentCount(later, 3))[2]).toBe('NEW VERSION TEXT');
  });

  it('does not send free-form text to a customer whose 24-hour window is closed, and says why', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    expect((await outbound({ phone, flowId, data: { customerName: 'Ido' } })).status).toBe(200);
    const state = await eventually(async () => {
      const s = await stateOf(phone);
      return s.lastError ? s : undefined;
    }, 'the journey to record the failure');
    expect(state.lastError).toMatch(/24-hour customer-service window is closed/);
    expect(await textsTo(phone)).toEqual([]);
  });

  it('refuses to trigger a flow that is not active or has no Outbound Trigger node', async () => {
    const draft = await js.owner.agent.post('/api/flows').send({ name: 'Draft', graph: qualifier });
    const res = await outbound({ phone: newPhone(), flowId: draft.body.id });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/draft: activate it/);
    const inboundOnly = await publishedFlow({ nodes: [{ id: 'in', type: 'trigger_inbound', data: {} }, { id: 'bye', type: 'end', data: {} }], edges: [{ source: 'in', target: 'bye' }] });
    const res2 = await outbound({ phone: newPhone(), flowId: inboundOnly });
    expect(res2.status).toBe(400);
    expect(res2.body.error).toMatch(/no Outbound Trigger node/);
    const missing = await outbound({ phone: newPhone(), flowId: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
  });
});

describe('finding a journey in Temporal', () => {
  it('is searchable by tenant, contact, flow, source reference and current node', async () => {
    const flowId = await publishedFlow(qualifier);
    const phone = newPhone();
    await outbound({ phone, flowId, templateName: 'hello_utility', data: { customerName: 'Sam', sourceRef: `crm-${phone}`, campaignId: 'spring' } });
    await sentCount(phone, 1);
    await customerSays(phone, 'hi');
    await sentCount(phone, 2);
    const query = `TenantId = '${js.owner.user.tenantId}' AND Contact = '${phone}' AND FlowId = '${flowId}' AND SourceRef = 'crm-${phone}' AND CampaignId = 'spring' AND CurrentNode = 'age' AND JourneyStatus = 'waiting'`;
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of js.stack.temporal.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length ? ids : undefined;
    }, 'the journey to be visible to a search');
    expect(found).toEqual([journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact: phone })]);
  });
});

describe('a contact who is already in a flow', () => {
  const waitingFlow = (text: string) => ({
    nodes: [
      { id: 'start', type: 'trigger_outbound', data: {} },
      { id: 'say', type: 'send_text', data: { text } },
      { id: 'hold', type: 'wait', data: { mode: 'reply', timeoutSeconds: 3600 } },
      { id: 'bye', type: 'send_text', data: { text: `${text}: done` } },
    ],
    edges: [
      { source: 'start', target: 'say' },
      { source: 'say', target: 'hold' },
      { source: 'hold', target: 'bye' },
    ],
  });

  async function busyContact(): Promise<{ phone: string; first: string; second: string }> {
    const first = await publishedFlow(waitingFlow('first flow'));
    const second = await publishedFlow(waitingFlow('second flow'));
    const phone = newPhone();
    await customerSays(phone, 'hello');
    await eventually(async () => {
      const rows = await js.stack.orm.em.getConnection().execute(`select 1 from conversations where contact = ? and last_customer_message_at is not null`, [phone]);
      return rows.length ? true : undefined;
    }, 'the window to open');
    await outbound({ phone, flowId: first });
    await sentCount(phone, 1);
    return { phone, first, second };
  }

  it('is moved to the new flow by default, and the old run is recorded as superseded', async () => {
    const { phone, first, second } = await busyContact();
    await outbound({ phone, flowId: second });
    expect((await sentCount(phone, 2))[1]).toBe('second flow');
    const state = await stateOf(phone);
    expect(state.flowId).toBe(second);
    expect(state.history.at(-1)).toMatchObject({ flowId: first, outcome: 'superseded' });
  });

  it('is left alone when the trigger asks to skip busy contacts', async () => {
    const { phone, first } = await busyContact();
    expect((await outbound({ phone, flowId: first, ifBusy: 'skip' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await textsTo(phone)).toEqual(['first flow']);
    expect((await stateOf(phone)).flowId).toBe(first);
  });

  it('starts the queued flow when the running one ends', async () => {
    const { phone, second } = await busyContact();
    expect((await outbound({ phone, flowId: second, ifBusy: 'queue' })).status).toBe(200);
    await eventually(async () => ((await stateOf(phone)).queued === 1 ? true : undefined), 'the trigger to be queued');
    expect(await textsTo(phone)).toEqual(['first flow']);
    await customerSays(phone, 'ok');
    expect(await sentCount(phone, 3)).toEqual(['first flow', 'first flow: done', 'second flow']);
  });
});

describe('the legacy outbound token', () => {
  it("opens the outbound trigger of the flow whose Outbound Trigger node holds it, and no other flow", async () => {
    const legacy = JSON.parse(JSON.stringify(qualifier));
    legacy.nodes[0].data = { legacyToken: 'flow-outbound-token-0123456789' };
    const flowId = await publishedFlow(legacy);
    const other = await publishedFlow(qualifier);
    const phone = newPhone();
    const send = (body: object, bearer: string) => js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${bearer}`).send(body);
    const ok = await send({ phone, flowId, templateName: 'hello_utility', data: { customerName: 'Lev' } }, 'flow-outbound-token-0123456789');
    expect(ok.status).toBe(200);
    expect(await sentCount(phone, 1)).toEqual(['[template:hello_utility]']);
    expect((await send({ phone: newPhone(), flowId, templateName: 'x' }, 'flow-outbound-token-wrong-wrong')).status).toBe(401);
    expect((await send({ phone: newPhone(), flowId: other, templateName: 'x' }, 'flow-outbound-token-0123456789')).status).toBe(401);
  });
});

describe('a long conversation', () => {
  it('continues as new before its history grows large, keeping its place, variables and sends', async () => {
    const loop = {
      nodes: [
        { id: 'start', type: 'trigger_outbound', data: {} },
        { id: 'ask', type: 'question', data: { text: 'Say something ({{count}})', variable: 'said' } },
        { id: 'more', type: 'set_variable', data: { variable: 'count', value: '{{count}}+' } },
      ],
      edges: [
        { source: 'start', target: 'ask' },
        { source: 'ask', target: 'more' },
        { source: 'more', target: 'ask' },
      ],
    };
    const flowId = await publishedFlow(loop);
    const phone = newPhone();
    const key = { tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact: phone };
    await signalJourney(
      js.stack.temporal,
      key,
      { name: 'trigger', arg: { triggerId: `long-${phone}`, flowId, variables: { count: '' }, policy: 'supersede', startNodeType: 'trigger_outbound', template: { name: 'hello', language: 'en', params: [] } } },
      { maxHistoryEvents: 30 },
    );
    await sentCount(phone, 1);
    for (let i = 1; i <= 8; i++) {
      await customerSays(phone, `message ${i}`);
      await sentCount(phone, i + 1);
    }
    const texts = await textsTo(phone);
    // The first message answers the opening template; the next seven answer the question.
    expect(texts.at(-1)).toBe(`Say something (${'+'.repeat(7)})`);
    expect(new Set(texts).size).toBe(texts.length);
    const handle = js.stack.temporal.client.workflow.getHandle(journeyWorkflowId(key));
    const runs = await eventually(async () => {
      const statuses: string[] = [];
      for await (const wf of js.stack.temporal.client.workflow.list({ query: `WorkflowId = '${journeyWorkflowId(key)}'` })) statuses.push(wf.status.name);
      return statuses.includes('CONTINUED_AS_NEW') ? statuses : undefined;
    }, 'a continued-as-new run to be listed');
    expect(runs.filter((r) => r === 'RUNNING')).toHaveLength(1);
    expect((await handle.query<JourneyState>('state')).variables).toMatchObject({ said: 'message 8', count: '+++++++' });
  });
});

describe('choosing the line', () => {
  it("sends from the flow's own line when it has one, from data.phoneNumberId when the caller names one, else from the primary line", async () => {
    const second = await js.owner.agent
      .post('/api/settings/whatsapp')
      .send({ phoneNumberId: `9${Date.now() % 1_000_000_000}`, wabaId: '2000001', displayPhoneNumber: '+15550009999', accessToken: js.sim.accessToken });
    expect(second.status).toBe(201);
    const flowId = await publishedFlow(qualifier);
    const lineOf = async (phone: string) => (await js.sim.messages({ to: phone }))[0].phoneNumberId;

    const viaPrimary = newPhone();
    await outbound({ phone: viaPrimary, flowId, templateName: 'hello_utility' });
    await sentCount(viaPrimary, 1);
    expect(await lineOf(viaPrimary)).toBe(js.line.phoneNumberId);

    const named = newPhone();
    await outbound({ phone: named, flowId, templateName: 'hello_utility', data: { phoneNumberId: second.body.phoneNumberId } });
    await sentCount(named, 1);
    expect(await lineOf(named)).toBe(second.body.phoneNumberId);

    expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ whatsappLineId: second.body.id })).body.whatsappLineId).toBe(second.body.id);
    const own = newPhone();
    await outbound({ phone: own, flowId, templateName: 'hello_utility' });
    await sentCount(own, 1);
    expect(await lineOf(own)).toBe(second.body.phoneNumberId);

    const unknownLine = await js.owner.agent.put(`/api/flows/${flowId}`).send({ whatsappLineId: '00000000-0000-4000-8000-000000000000' });
    expect(unknownLine.status).toBe(400);
    expect(unknownLine.body.error).toMatch(/whatsappLineId/);
    expect((await outbound({ phone: newPhone(), flowId, templateName: 'x', data: { phoneNumberId: '424242' } })).status).toBe(404);
  });
});
