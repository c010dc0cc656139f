import { createHmac } from 'node:crypto';
import { openJourneyStack, eventually, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor, signedInAccount } from '../support/accounts';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import type { JourneyState } from '../../core/journey/types';
import { HIDDEN_SECRET } from '../../core/flows/secrets';

let js: JourneyStack;
beforeAll(async () => {
  js = await openJourneyStack();
}, 60_000);
afterAll(async () => js?.close());

let seq = 0;
const newPhone = () => `97252${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;

/** A lead flow whose only effect is visible in the journey's variables: it waits for a reply after mapping. */
async function leadFlow(auth: object): Promise<string> {
  const graph = {
    nodes: [
      { id: 'lead', type: 'trigger_api_lead', data: { auth, fieldMapping: { name: 'customerName', product: 'plan' } } },
      { id: 'hold', type: 'wait', data: { mode: 'reply', timeoutSeconds: 3600 } },
    ],
    edges: [{ source: 'lead', target: 'hold' }],
  };
  const created = await js.owner.agent.post('/api/flows').send({ name: 'Lead intake', graph });
  expect(created.status).toBe(201);
  await js.owner.agent.post(`/api/flows/${created.body.id}/versions`);
  await js.owner.agent.put(`/api/flows/${created.body.id}`).send({ status: 'active' });
  return created.body.id;
}

const variablesOf = (contact: string) =>
  eventually(async () => {
    const handle = js.stack.temporal.client.workflow.getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact }));
    const state = await handle.query<JourneyState>('state').catch(() => undefined);
    return state?.currentNode === 'hold' ? state.variables : undefined;
  }, 'the lead journey to wait');

const lead = (flowId: string, body: object) => js.stack.http().post(`/api/webhook/flow/${flowId}/lead`).set('Content-Type', 'application/json');

describe('POST /api/webhook/flow/{flowId}/lead', () => {
  it('accepts the API JWT, maps fields to variables and answers the seed shape', async () => {
    const flowId = await leadFlow({ mode: 'jwt' });
    const token = await apiTokenFor(js.stack, js.owner.user);
    const phone = newPhone();
    const res = await lead(flowId, {}).set('Authorization', `Bearer ${token}`).send({ phone: `+${phone}`, name: 'John Doe', email: 'john@example.test', product: 'Premium Plan' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: 'Lead received and flow started', variables: ['phone', 'customerName', 'email', 'plan'] });
    expect(await variablesOf(phone)).toMatchObject({ customerName: 'John Doe', email: 'john@example.test', plan: 'Premium Plan' });
  });

  it('answers 401 without credentials when the flow asks for the JWT, and 404 to another tenant', async () => {
    const flowId = await leadFlow({ mode: 'jwt' });
    expect((await lead(flowId, {}).send({ phone: newPhone() })).status).toBe(401);
    const stranger = await signedInAccount(js.stack);
    const token = await apiTokenFor(js.stack, stranger.user);
    expect((await lead(flowId, {}).set('Authorization', `Bearer ${token}`).send({ phone: newPhone() })).status).toBe(404);
  });

  it('accepts the HMAC of the raw body as openssl computes it, and refuses a wrong one', async () => {
    const flowId = await leadFlow({ mode: 'hmac', secret: 'YOUR_HMAC_SECRET_123' });
    const phone = newPhone();
    const body = JSON.stringify({ phone: `+${phone}`, name: 'John' });
    const signature = createHmac('sha256', 'YOUR_HMAC_SECRET_123').update(body).digest('hex');
    expect((await lead(flowId, {}).set('X-Signature-256', signature).send(body)).status).toBe(200);
    expect(await variablesOf(phone)).toMatchObject({ customerName: 'John' });
    const wrong = createHmac('sha256', 'another-secret').update(body).digest('hex');
    const refused = await lead(flowId, {}).set('X-Signature-256', wrong).send(body);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/hmac/);
    const tampered = await lead(flowId, {}).set('X-Signature-256', signature).send(body.replace('John', 'Jane'));
    expect(tampered.status).toBe(401);
  });

  it('accepts an API key header, Basic and a static Bearer token as configured, and refuses wrong ones', async () => {
    const keyFlow = await leadFlow({ mode: 'api_key', header: 'X-API-Key', key: 'lead-key-123456' });
    expect((await lead(keyFlow, {}).set('X-API-Key', 'lead-key-123456').send({ phone: newPhone() })).status).toBe(200);
    expect((await lead(keyFlow, {}).set('X-API-Key', 'lead-key-000000').send({ phone: newPhone() })).status).toBe(401);

    const basicFlow = await leadFlow({ mode: 'basic', username: 'crm', password: 'crm-password' });
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    expect((await lead(basicFlow, {}).set('Authorization', basic('crm', 'crm-password')).send({ phone: newPhone() })).status).toBe(200);
    expect((await lead(basicFlow, {}).set('Authorization', basic('crm', 'nope-nope')).send({ phone: newPhone() })).status).toBe(401);

    const bearerFlow = await leadFlow({ mode: 'bearer', token: 'static-token-123' });
    expect((await lead(bearerFlow, {}).set('Authorization', 'Bearer static-token-123').send({ phone: newPhone() })).status).toBe(200);
    expect((await lead(bearerFlow, {}).set('Authorization', 'Bearer static-token-999').send({ phone: newPhone() })).status).toBe(401);
  });

  it('accepts anything in mode none, and says which field is missing', async () => {
    const flowId = await leadFlow({ mode: 'none' });
    expect((await lead(flowId, {}).send({ phone: newPhone(), name: 'Open' })).status).toBe(200);
    const missing = await lead(flowId, {}).send({ name: 'No phone' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/phone: is required/);
    const badPhone = await lead(flowId, {}).send({ phone: 'call me' });
    expect(badPhone.status).toBe(400);
  });

  it('starts the generic API trigger from query parameters with GET', async () => {
    const flowId = await leadFlow({ mode: 'none' });
    const phone = newPhone();
    const res = await js.stack.http().get(`/api/webhook/flow/${flowId}`).query({ phone, name: 'Query Person' });
    expect(res.status).toBe(200);
    expect(await variablesOf(phone)).toMatchObject({ customerName: 'Query Person' });
  });
});

describe("a flow's trigger secrets", () => {
  it('are never read back, and a graph saved back as read keeps them', async () => {
    const secret = 'YOUR_HMAC_SECRET_456';
    const flowId = await leadFlow({ mode: 'hmac', secret });
    const agent = js.owner.agent;
    const read = await agent.get(`/api/flows/${flowId}`);
    expect(read.status).toBe(200);
    expect(read.body.graph.nodes[0].data.auth).toEqual({ mode: 'hmac', secret: HIDDEN_SECRET, header: 'X-Signature-256' });
    for (const res of [read, await agent.get(`/api/flows/${flowId}/versions?include=graph`), await agent.get(`/api/flows/${flowId}/versions/1`)]) {
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    // Stored sealed, in the draft and in the version published from it.
    const [stored] = await js.stack.orm.em
      .getConnection()
      .execute<Array<{ draft: string; version: string }>>(
        `select f.draft::text as draft, v.graph::text as version from flows f join flow_versions v on v.flow_id = f.id and v.version = 1 where f.id = ?`,
        [flowId],
      );
    for (const text of [stored.draft, stored.version]) {
      expect(text).not.toContain(secret);
      expect(text).toMatch(/"secret": "sealed:v1:[0-9a-f]{8}:/);
    }

    // Saved back as read (graph, or the Drawflow export) and published again: the stored secret still opens the trigger.
    expect((await agent.put(`/api/flows/${flowId}`).send({ graph: read.body.graph })).status).toBe(200);
    expect((await agent.put(`/api/flows/${flowId}`).send({ drawflowData: read.body.drawflowData })).status).toBe(200);
    expect((await agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    const phone = newPhone();
    const body = JSON.stringify({ phone: `+${phone}`, name: 'Kept' });
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    expect((await lead(flowId, {}).set('X-Signature-256', signature).send(body)).status).toBe(200);
    // Nor is it in the journey's Temporal history, which carries the flow the journey was started with.
    expect(await variablesOf(phone)).toMatchObject({ customerName: 'Kept' });
    const history = await js.stack.temporal.client.workflow
      .getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId: js.line.id, contact: phone }))
      .fetchHistory();
    // Payloads come base64-encoded.
    const historyText = JSON.stringify(history, (key, value: unknown) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString() : value));
    expect(historyText).toContain('trigger_api_lead');
    expect(historyText).not.toContain(secret);
    const hidden = createHmac('sha256', HIDDEN_SECRET).update(body).digest('hex');
    expect((await lead(flowId, {}).set('X-Signature-256', hidden).send(body)).status).toBe(401);

    // Another auth mode has no stored secret to keep, nor has a new flow made from the export.
    const switched = structuredClone(read.body.graph);
    switched.nodes[0].data.auth = { mode: 'basic', username: 'crm', password: HIDDEN_SECRET };
    const refused = await agent.put(`/api/flows/${flowId}`).send({ graph: switched });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('Node "lead": its basic password is not shown when a flow is read (nor in an export); enter it again');
    expect((await agent.get(`/api/flows/${flowId}`)).body.graph.nodes[0].data.auth.mode).toBe('hmac');
    const copy = await agent.post('/api/flows').send({ name: 'Copy', drawflowData: read.body.drawflowData });
    expect(copy.status).toBe(400);
    expect(copy.body.error).toMatch(/hmac secret is not shown/);
    // A new secret replaces the stored one.
    const rotated = structuredClone(read.body.graph);
    rotated.nodes[0].data.auth.secret = 'ROTATED_HMAC_SECRET_789';
    expect((await agent.put(`/api/flows/${flowId}`).send({ graph: rotated })).status).toBe(200);
    expect((await agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    const resigned = createHmac('sha256', 'ROTATED_HMAC_SECRET_789').update(body).digest('hex');
    expect((await lead(flowId, {}).set('X-Signature-256', resigned).send(body)).status).toBe(200);
  });

  it('refuse the trigger with a 503 that says why when a stored secret cannot be opened (ENCRYPTION_KEY changed)', async () => {
    const flowId = await leadFlow({ mode: 'bearer', token: 'static-token-456' });
    // As if sealed with a key this installation does not have (versions cannot change: the draft, published again).
    await js.stack.orm.em
      .getConnection()
      .execute(`update flows set draft = jsonb_set(draft, '{nodes,0,data,auth,token}', '"sealed:v1:0badc0de:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"') where id = ?`, [flowId]);
    expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    const res = await lead(flowId, {}).set('Authorization', 'Bearer static-token-456').send({ phone: newPhone() });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/trigger secret cannot be read .*ENCRYPTION_KEY/);
  });

  it("hide the outbound trigger's legacy token too, which still opens the trigger at its longest", async () => {
    // 200 characters, the most a token may have: sealed, it is longer, and the flow must still publish.
    const token = `flow-outbound-token-${'x'.repeat(180)}`;
    const graph = {
      nodes: [
        { id: 'start', type: 'trigger_outbound', data: { legacyToken: token } },
        { id: 'hold', type: 'wait', data: { mode: 'reply', timeoutSeconds: 3600 } },
      ],
      edges: [{ source: 'start', target: 'hold' }],
    };
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Outbound with a token', graph });
    expect(created.status).toBe(201);
    expect(created.body.graph.nodes[0].data.legacyToken).toBe(HIDDEN_SECRET);
    expect(JSON.stringify(created.body)).not.toContain(token);
    expect((await js.owner.agent.post('/api/flows').send({ name: 'Too long', graph: { nodes: [{ id: 's', type: 'trigger_outbound', data: { legacyToken: `${token}y` } }] } })).status).toBe(400);

    const flowId = created.body.id;
    expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' })).status).toBe(200);
    const start = (bearer: string) =>
      js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${bearer}`).send({ phone: `+${newPhone()}`, flowId, templateName: 'hello_utility' });
    expect((await start(token)).status).toBe(200);
    expect((await start(`${token.slice(0, -1)}z`)).status).toBe(401);
  });
});
