import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openJourneyStack, eventually, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor } from '../support/accounts';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import { signalJourney } from '../../core/journey/signal';
import type { JourneyState } from '../../core/journey/types';

let js: JourneyStack;
let token: string;
let crm: http.Server;
let crmUrl: string;
const crmCalls: Array<{ method: string; url: string; body: string }> = [];

beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
  // An integrator's CRM that the HTTP request node calls.
  crm = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      crmCalls.push({ method: req.method!, url: req.url!, body });
      res.setHeader('content-type', 'application/json');
      if (req.url!.startsWith('/fail')) return void res.writeHead(500).end('{"error":"down"}');
      res.end(JSON.stringify({ order: { status: 'shipped', eta: '2 days' } }));
    });
  });
  await new Promise<void>((r) => crm.listen(0, '127.0.0.1', r));
  crmUrl = `http://127.0.0.1:${(crm.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await js?.close();
  await new Promise((r) => crm?.close(r));
});

async function publish(graph: object): Promise<string> {
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Nodes', graph });
  expect(created.status).toBe(201);
  await js.owner.agent.post(`/api/flows/${created.body.id}/versions`);
  await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' });
  return created.body.id;
}

let seq = 0;
const newPhone = () => `97255${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;
const sent = async (to: string) => (await js.sim.messages({ to })).map((m) => m.body as Record<string, any>);
const sentN = (to: string, n: number) => eventually(async () => ((await sent(to)).length >= n ? sent(to) : undefined), `${n} messages to ${to}`);
const keyOf = (contact: string) => ({ tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact });
const state = (contact: string) => js.stack.temporal.client.workflow.getHandle(journeyWorkflowId(keyOf(contact))).query<JourneyState>('state');

/** Opens the 24 h window the way a customer does, then starts the flow for them. */
async function start(flowId: string, phone: string, variables: Record<string, string> = {}) {
  await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'hello', name: 'Rina' });
  await eventually(async () => {
    const rows = await js.stack.orm.em.getConnection().execute(`select 1 from conversations where contact = ? and last_customer_message_at is not null`, [phone]);
    return rows.length ? true : undefined;
  }, 'the inbound message to be recorded');
  const res = await js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${token}`).send({ phone, flowId, data: variables });
  expect(res.status).toBe(200);
}

describe('node catalogue in a live journey', () => {
  it('buttons branch on a tap, lists on a row, media and variables are sent, unknown answers re-send the choices', async () => {
    const flowId = await publish({
      nodes: [
        { id: 's', type: 'trigger_outbound', data: {} },
        { id: 'menu', type: 'buttons', data: { text: 'Hi {{customerName}}, what do you need?', buttons: [{ id: 'sales', title: 'Sales' }, { id: 'help', title: 'Support' }] } },
        { id: 'pick', type: 'list', data: { text: 'Which plan?', buttonLabel: 'Plans', rows: [{ id: 'basic', title: 'Basic' }, { id: 'pro', title: 'Pro', description: 'Everything' }] } },
        { id: 'set', type: 'set_variable', data: { variable: 'summary', value: '{{customerName}} wants {{lastChoice}}' } },
        { id: 'brochure', type: 'send_media', data: { mediaType: 'document', url: 'https://example.test/{{lastChoice}}.pdf', caption: '{{summary}}', filename: 'plan.pdf' } },
        { id: 'support', type: 'send_text', data: { text: 'Support will call you.' } },
      ],
      edges: [
        { source: 's', target: 'menu' },
        { source: 'menu', sourceHandle: 'button:sales', target: 'pick' },
        { source: 'menu', sourceHandle: 'button:help', target: 'support' },
        { source: 'pick', sourceHandle: 'row:pro', target: 'set' },
        { source: 'set', target: 'brochure' },
      ],
    });
    const phone = newPhone();
    await start(flowId, phone, { customerName: 'Rina' });
    const [menu] = await sentN(phone, 1);
    expect(menu).toMatchObject({ type: 'interactive', interactive: { type: 'button', body: { text: 'Hi Rina, what do you need?' }, action: { buttons: [{ type: 'reply', reply: { id: 'sales', title: 'Sales' } }, { type: 'reply', reply: { id: 'help', title: 'Support' } }] } } });

    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'what?' });
    expect((await sentN(phone, 2))[1]).toMatchObject({ type: 'interactive', interactive: { type: 'button' } });

    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, buttonReply: { id: 'sales', title: 'Sales' } });
    expect((await sentN(phone, 3))[2]).toMatchObject({ type: 'interactive', interactive: { type: 'list', body: { text: 'Which plan?' }, action: { button: 'Plans' } } });

    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, listReply: { id: 'pro', title: 'Pro' } });
    expect((await sentN(phone, 4))[3]).toMatchObject({ type: 'document', document: { link: 'https://example.test/Pro.pdf', caption: 'Rina wants Pro', filename: 'plan.pdf' } });
  });

  it('calls an HTTP API, maps the answer into variables, and takes the error exit on a failure', async () => {
    const flowId = await publish({
      nodes: [
        { id: 's', type: 'trigger_outbound', data: {} },
        { id: 'call', type: 'http_request', data: { method: 'POST', url: `${crmUrl}/orders/{{orderId}}`, body: '{"phone":"{{phone}}"}', responseMapping: { status: 'order.status', eta: 'order.eta' } } },
        { id: 'ok', type: 'send_text', data: { text: 'Order {{orderId}} is {{status}}, arriving in {{eta}}.' } },
        { id: 'bad', type: 'send_text', data: { text: 'Our system is down ({{call2_status}}).' } },
        { id: 'call2', type: 'http_request', data: { url: `${crmUrl}/fail` } },
      ],
      edges: [
        { source: 's', target: 'call' },
        { source: 'call', sourceHandle: 'success', target: 'ok' },
        { source: 'ok', target: 'call2' },
        { source: 'call2', sourceHandle: 'error', target: 'bad' },
      ],
    });
    const phone = newPhone();
    await start(flowId, phone, { orderId: 'A17', phone });
    const messages = await sentN(phone, 2);
    expect(messages[0]).toMatchObject({ text: { body: 'Order A17 is shipped, arriving in 2 days.' } });
    expect(messages[1]).toMatchObject({ text: { body: 'Our system is down (500).' } });
    expect(crmCalls.find((c) => c.url === '/orders/A17')).toMatchObject({ method: 'POST', body: `{"phone":"${phone}"}` });
  });

  it('hands off to an agent: the bot pauses until the agent releases it, then goes on', async () => {
    const flowId = await publish({
      nodes: [
        { id: 's', type: 'trigger_outbound', data: {} },
        { id: 'human', type: 'handoff', data: { message: 'Connecting you to a person…' } },
        { id: 'after', type: 'send_text', data: { text: 'Back with the bot. Anything else?' } },
      ],
      edges: [
        { source: 's', target: 'human' },
        { source: 'human', target: 'after' },
      ],
    });
    const phone = newPhone();
    await start(flowId, phone);
    expect((await sentN(phone, 1))[0]).toMatchObject({ text: { body: 'Connecting you to a person…' } });
    await eventually(async () => ((await state(phone)).status === 'paused' ? true : undefined), 'the journey to pause');
    const [row] = await eventually(async () => {
      const rows = await js.stack.orm.em.getConnection().execute(`select status, assigned_user_id from conversations where contact = ?`, [phone]);
      return rows[0]?.status === 'agent' ? rows : undefined;
    }, 'the conversation to wait for an agent');
    expect(row.assigned_user_id).toBeNull();
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'I want a human' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await sent(phone)).toHaveLength(1);
    await signalJourney(js.stack.temporal, keyOf(phone), { name: 'agent', arg: { action: 'release', userId: js.owner.user.id } });
    expect((await sentN(phone, 2))[1]).toMatchObject({ text: { body: 'Back with the bot. Anything else?' } });
  });

  it('goes to another flow, which runs its newest version with the variables so far', async () => {
    const second = await publish({
      nodes: [
        { id: 'in', type: 'trigger_inbound', data: { match: 'exact', keywords: ['never-matches-anything'] } },
        { id: 'bye', type: 'send_text', data: { text: 'Second flow says bye to {{customerName}}.' } },
      ],
      edges: [{ source: 'in', target: 'bye' }],
    });
    const first = await publish({
      nodes: [
        { id: 's', type: 'trigger_outbound', data: {} },
        { id: 'hop', type: 'goto_flow', data: { flowId: second } },
      ],
      edges: [{ source: 's', target: 'hop' }],
    });
    const phone = newPhone();
    await start(first, phone, { customerName: 'Noa' });
    expect((await sentN(phone, 1))[0]).toMatchObject({ text: { body: 'Second flow says bye to Noa.' } });
    const s = await eventually(async () => {
      const v = await state(phone);
      return v.status === 'idle' && v.history.length >= 2 ? v : undefined;
    }, 'both flows to finish');
    expect(s.history.map((h) => h.flowId)).toEqual([first, second]);
  });

  it('starts a flow from an inbound keyword, with keyword matches beating a catch-all', async () => {
    const word = `promo${Date.now() % 100000}`;
    await publish({
      nodes: [
        { id: 'in', type: 'trigger_inbound', data: { match: 'contains', keywords: [word] } },
        { id: 'hi', type: 'send_text', data: { text: 'Promo flow for {{lastMessage}}' } },
      ],
      edges: [{ source: 'in', target: 'hi' }],
    });
    const phone = newPhone();
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: `I saw the ${word} ad` });
    expect((await sentN(phone, 1))[0]).toMatchObject({ text: { body: `Promo flow for I saw the ${word} ad` } });

    // The customer answers within the same second: the chat still shows the answer after the bot's message.
    await js.sim.inbound({ from: phone, phoneNumberId: js.line.phoneNumberId, text: 'thanks!' });
    const texts = await eventually(async () => {
      const list = await js.owner.agent.get('/api/conversations').query({ search: phone });
      const detail = await js.owner.agent.get(`/api/conversations/${list.body[0].id}`);
      const all = (detail.body.messages as Array<{ text: string }>).map((m) => m.text);
      return all.length === 3 ? all : undefined;
    }, 'three messages in the conversation');
    expect(texts).toEqual([`I saw the ${word} ad`, `Promo flow for I saw the ${word} ad`, 'thanks!']);
  });
});
