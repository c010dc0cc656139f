import jwt from 'jsonwebtoken';
import { apiTokenFor, signedInAccount } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { journeyWorkflowId } from '../../core/temporal/workflow-ids';
import type { JourneyState } from '../../core/journey/types';

/**
 * POST /api/webhook/outbound reads its flow, lines and caller in a few statements and keeps parsed published
 * versions in memory (api/routes/triggers.ts, core/triggers/prepare.ts, api/middleware/auth.ts). What may
 * change between two calls must still be read on every call.
 */

let js: JourneyStack;
let token: string;
beforeAll(async () => {
  js = await openJourneyStack();
  token = await apiTokenFor(js.stack, js.owner.user);
}, 60_000);
afterAll(async () => js?.close());

let seq = 0;
const newPhone = () => `97253${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;
const outbound = (body: object, bearer = token) => js.stack.http().post('/api/webhook/outbound').set('Authorization', `Bearer ${bearer}`).send(body);

const holdGraph = (text: string) => ({
  nodes: [
    { id: 'start', type: 'trigger_outbound', data: {} },
    { id: 'hold', type: 'question', data: { text, variable: 'answer' } },
  ],
  edges: [{ source: 'start', target: 'hold' }],
});

const stateOf = (lineId: string, contact: string) =>
  eventually(async () => {
    const handle = js.stack.temporal.client.workflow.getHandle(journeyWorkflowId({ tenantId: js.owner.user.tenantId, channel: 'whatsapp', lineId, contact }));
    const state = await handle.query<JourneyState>('state').catch(() => undefined);
    return state?.status === 'waiting' ? state : undefined;
  }, 'the journey to wait for a reply to its opening template');

describe('POST /api/webhook/outbound', () => {
  it('starts the newest published version, and refuses a flow deactivated after an earlier trigger', async () => {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Versions', graph: holdGraph('Version one?') });
    const flowId = created.body.id as string;
    await js.owner.agent.post(`/api/flows/${flowId}/versions`);
    await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' });

    const first = newPhone();
    expect((await outbound({ phone: first, flowId, templateName: 'hello_utility' })).status).toBe(200);
    expect((await stateOf(js.line.id, first)).version).toBe(1);

    expect((await js.owner.agent.put(`/api/flows/${flowId}`).send({ graph: holdGraph('Version two?') })).status).toBe(200);
    expect((await js.owner.agent.post(`/api/flows/${flowId}/versions`)).status).toBe(201);
    const second = newPhone();
    expect((await outbound({ phone: second, flowId, templateName: 'hello_utility' })).status).toBe(200);
    expect((await stateOf(js.line.id, second)).version).toBe(2);

    await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'inactive' });
    const refused = await outbound({ phone: newPhone(), flowId });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/inactive: activate it/);
  });

  it('sends from the line data.phoneNumberId names, else the primary line, and answers 404 for a number that is not the tenant’s', async () => {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Lines', graph: holdGraph('Which line?') });
    const flowId = created.body.id as string;
    await js.owner.agent.post(`/api/flows/${flowId}/versions`);
    await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' });
    const secondNumber = `2000${process.pid}${Date.now() % 100000}`;
    const second = await js.owner.agent
      .post('/api/settings/whatsapp')
      .send({ phoneNumberId: secondNumber, wabaId: '2000001', displayPhoneNumber: '+15550002222', accessToken: js.sim.accessToken, verifyToken: 'verify-me' });
    expect(second.status).toBeLessThan(300);
    const secondLineId = (second.body.id ?? second.body.line?.id) as string;
    const stranger = await signedInAccount(js.stack);
    const strangerNumber = `3000${process.pid}${Date.now() % 100000}`;
    const foreign = await stranger.agent
      .post('/api/settings/whatsapp')
      .send({ phoneNumberId: strangerNumber, wabaId: '3000001', displayPhoneNumber: '+15550003333', accessToken: js.sim.accessToken, verifyToken: 'verify-me' });
    expect(foreign.status).toBeLessThan(300);

    const named = await outbound({ phone: newPhone(), flowId, data: { phoneNumberId: secondNumber } });
    expect(named.status).toBe(200);
    expect(named.body.journeyId).toContain(`/${secondLineId}/`);
    const primary = await outbound({ phone: newPhone(), flowId });
    expect(primary.body.journeyId).toContain(`/${js.line.id}/`);
    const notOurs = await outbound({ phone: newPhone(), flowId, data: { phoneNumberId: strangerNumber } });
    expect(notOurs.status).toBe(404);
    expect(notOurs.body.error).toMatch(new RegExp(`phone number id ${strangerNumber}`));
  });

  it('refuses an API token signed with another secret, an expired one, and one minted before the key was rotated', async () => {
    const created = await js.owner.agent.post('/api/flows').send({ name: 'Tokens', graph: holdGraph('Who?') });
    const flowId = created.body.id as string;
    await js.owner.agent.post(`/api/flows/${flowId}/versions`);
    await js.owner.agent.put(`/api/flows/${flowId}`).send({ status: 'active' });
    const account = await signedInAccount(js.stack, { tenantId: js.owner.user.tenantId });
    const own = await apiTokenFor(js.stack, account.user);
    const { iat: _iat, exp: _exp, iss: _iss, ...claims } = jwt.decode(own) as Record<string, unknown>;

    const forged = jwt.sign(claims, 'another-secret-0123456789abcdef', { algorithm: 'HS256', expiresIn: 600, issuer: 'flowbot' });
    expect(await outbound({ phone: newPhone(), flowId }, forged).then((r) => [r.status, r.body.error])).toEqual([401, 'Invalid token']);
    const expired = jwt.sign(claims, js.stack.deps.config.jwtSecret!, { algorithm: 'HS256', expiresIn: -60, issuer: 'flowbot' });
    expect(await outbound({ phone: newPhone(), flowId }, expired).then((r) => [r.status, r.body.error])).toEqual([401, 'Token expired; sign in again']);

    expect((await outbound({ phone: newPhone(), flowId }, own)).status).toBe(200);
    expect((await account.agent.post('/api/settings/api-access/rotate')).status).toBe(200);
    const rotated = await outbound({ phone: newPhone(), flowId }, own);
    expect(rotated.status).toBe(401);
    expect(rotated.body.error).toMatch(/rotated/);
  });
});
