import { createHmac } from 'node:crypto';
import { openJourneyStack, eventually, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor, signedInAccount } from '../support/accounts';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import type { JourneyState } from '../../core/journey/types';

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
