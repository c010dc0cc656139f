import { openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { apiTokenFor, signedInAccount, type TestAccount } from '../support/accounts';
import { upsertConversation } from '../../core/conversations/store';

/**
 * Tenant isolation sweep: for every operation of the OpenAPI document whose path names a record, a user of
 * tenant B (with a session, and with an API token) asking for tenant A's record gets 404 {error}, exactly as
 * if it did not exist. Each record type brings a fixture below; an operation without one fails the sweep,
 * so a new route cannot slip past it.
 */
let js: JourneyStack;
let outsider: TestAccount;
let outsiderToken: string;

type Fixture = { params: Record<string, string>; body?: Partial<Record<string, unknown>> };
let fixtures: Record<string, Fixture>;

const graph = {
  nodes: [
    { id: 'lead', type: 'trigger_api_lead', data: {} },
    { id: 'bye', type: 'end', data: {} },
  ],
  edges: [{ source: 'lead', target: 'bye' }],
};

beforeAll(async () => {
  js = await openJourneyStack();
  const owner = js.owner;
  outsider = await signedInAccount(js.stack);
  outsiderToken = await apiTokenFor(js.stack, outsider.user);

  const member = await signedInAccount(js.stack, { role: 'user', tenantId: owner.user.tenantId });
  const flow = (await owner.agent.post('/api/flows').send({ name: 'Private', graph })).body;
  await owner.agent.post(`/api/flows/${flow.id}/versions`);
  await owner.agent.put(`/api/flows/${flow.id}`).send({ status: 'active' });
  const provider = (await owner.agent.post('/api/settings/ai').send({ name: 'Private AI', apiKey: 'sk-private-key-0000-abcd' })).body;
  const template = (
    await owner.agent.post('/api/templates').send({ name: `private_${Date.now()}`, language: 'en', category: 'UTILITY', components: [{ type: 'BODY', text: 'Hi' }] })
  ).body;
  const templateGroup = (await owner.agent.post('/api/templates/groups').send({ name: 'Private', templateIds: [template.id] })).body;
  const campaign = (await owner.agent.post('/api/templates/bulk-send').send({ templateName: 'hello_utility', recipients: ['+972577000010'] })).body;
  await owner.agent.post('/api/opt-outs').send({ phone: '+972577000011' });
  const upload = (await owner.agent.post('/api/upload').attach('file', Buffer.from('private notes'), { filename: 'private.txt', contentType: 'text/plain' })).body.file;
  const conversation = await upsertConversation(js.stack.orm.em.fork(), {
    tenantId: owner.user.tenantId,
    channel: 'whatsapp',
    lineId: js.line.id,
    contact: '972577000001',
  });

  fixtures = {
    '/api/users/{id}': { params: { id: member.user.id }, body: { put: { displayName: 'Taken over' } } },
    '/api/flows/{id}': { params: { id: flow.id }, body: { put: { name: 'Taken over' } } },
    '/api/flows/{id}/versions': { params: { id: flow.id } },
    '/api/flows/{id}/versions/{version}': { params: { id: flow.id, version: '1' } },
    '/api/conversations/{id}': { params: { id: conversation.id }, body: { put: { action: 'claim' } } },
    '/api/conversations/{id}/reply': { params: { id: conversation.id }, body: { post: { messageType: 'text', text: 'hello' } } },
    '/api/settings/whatsapp/{id}': { params: { id: js.line.id }, body: { put: { displayPhoneNumber: '+15550000000' } } },
    '/api/campaigns/{id}': { params: { id: campaign.campaignId } },
    '/api/campaigns/{id}/pause': { params: { id: campaign.campaignId } },
    '/api/campaigns/{id}/resume': { params: { id: campaign.campaignId } },
    '/api/campaigns/{id}/cancel': { params: { id: campaign.campaignId } },
    '/api/opt-outs/{phone}': { params: { phone: '972577000011' } },
    '/api/settings/ai/{id}': { params: { id: provider.id } },
    '/api/upload/{id}': { params: { id: upload.id } },
    '/api/templates/{id}': { params: { id: template.id }, body: { put: { category: 'MARKETING' } } },
    '/api/templates/groups/{id}': { params: { id: templateGroup.id }, body: { put: { name: 'Taken over' } } },
    '/api/webhook/flow/{flowId}': { params: { flowId: flow.id }, body: { post: { phone: '+972577000002' } } },
    '/api/webhook/flow/{flowId}/lead': { params: { flowId: flow.id }, body: { post: { phone: '+972577000003' } } },
  };
}, 90_000);
afterAll(async () => js?.close());

function operationsWithIds(): Array<{ method: string; template: string }> {
  const paths = (js.stack.openApi as { paths: Record<string, Record<string, unknown>> }).paths;
  return Object.entries(paths)
    .filter(([template]) => template.includes('{'))
    .flatMap(([template, methods]) => Object.keys(methods).map((method) => ({ method, template })));
}

const fill = (template: string, params: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, name: string) => params[name]);

describe('tenant isolation sweep', () => {
  it('has a fixture for every operation whose path names a record', () => {
    const missing = [...new Set(operationsWithIds().map((o) => o.template))].filter((t) => !fixtures[t]);
    expect(missing).toEqual([]);
  });

  it.each(['session', 'api token'] as const)("answers 404 to another tenant's %s on every such operation", async (auth) => {
    const leaks: string[] = [];
    for (const { method, template } of operationsWithIds()) {
      const fixture = fixtures[template];
      if (!fixture) continue;
      const path = fill(template, fixture.params);
      const base = auth === 'session' ? outsider.agent : js.stack.http();
      let req = (base as unknown as Record<string, (p: string) => import('supertest').Test>)[method](path);
      if (auth === 'api token') req = req.set('Authorization', `Bearer ${outsiderToken}`);
      const body = fixture.body?.[method];
      const res = body === undefined ? await req : await req.send(body as object);
      // A session-only operation may refuse the API token before looking anything up (403): that leaks nothing.
      const sessionOnly = auth === 'api token' && res.status === 403;
      if (!sessionOnly && (res.status !== 404 || typeof res.body?.error !== 'string')) {
        leaks.push(`${method.toUpperCase()} ${template}: ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("leaves tenant A's records unchanged", async () => {
    const flow = await js.owner.agent.get(`/api/flows/${fixtures['/api/flows/{id}'].params.id}`);
    expect(flow.body.name).toBe('Private');
    const user = await js.owner.agent.get(`/api/users/${fixtures['/api/users/{id}'].params.id}`);
    expect(user.body.displayName).not.toBe('Taken over');
    expect(await js.sim.messages({ to: '972577000002' })).toEqual([]);
    const template = await js.owner.agent.get(`/api/templates/${fixtures['/api/templates/{id}'].params.id}`);
    expect(template.body.category).toBe('UTILITY');
    const group = await js.owner.agent.get(`/api/templates/groups/${fixtures['/api/templates/groups/{id}'].params.id}`);
    expect(group.body).toMatchObject({ name: 'Private', templateIds: [template.body.id] });
    const optOuts = await js.owner.agent.get('/api/opt-outs');
    expect(JSON.stringify(optOuts.body)).toContain('972577000011');
    const providers = await js.owner.agent.get('/api/settings/ai');
    expect(JSON.stringify(providers.body)).toContain(fixtures['/api/settings/ai/{id}'].params.id);
  });
});
