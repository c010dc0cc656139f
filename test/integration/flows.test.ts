import { randomUUID } from 'node:crypto';
import { openTestStack, type TestStack } from '../support/stack';
import { apiCredentialsFor, signedInAccount, uniqueIp, uniqueName } from '../support/accounts';
import { legacyFlowGraph } from '../support/legacy-flow';
import { expectTenantIsolation } from '../support/tenant-isolation';
import { fromDrawflow, toDrawflow } from '../../core/flow/drawflow';
import { activePublishedFlows, findFlowForTenant, getVersion, latestPublishedVersion } from '../../core/flows/repository';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

const sql = (query: string, params: unknown[] = []) => stack.orm.em.getConnection().execute(query, params);

const graph = (text = 'Hello {{customerName}}') => ({
  nodes: [
    { id: 'start', type: 'trigger_outbound', position: { x: 0, y: 0 }, data: {} },
    { id: 'hello', type: 'send_text', position: { x: 200, y: 0 }, data: { text } },
    { id: 'bye', type: 'end', position: { x: 400, y: 0 }, data: {} },
  ],
  edges: [
    { source: 'start', target: 'hello' },
    { source: 'hello', target: 'bye' },
  ],
});

/** A Drawflow document as the seed's editor saves it: numeric ids, editor-only fields, every exit listed. */
const drawflowData = {
  drawflow: {
    Home: {
      data: {
        '1': {
          id: 1,
          name: 'trigger_inbound',
          data: { match: 'contains', keywords: ['hi'] },
          class: 'trigger_inbound',
          html: '<div class="title">Start</div>',
          typenode: false,
          inputs: {},
          outputs: { output_1: { connections: [{ node: '2', output: 'input_1' }] } },
          pos_x: 12.5,
          pos_y: 40,
        },
        '2': {
          id: 2,
          name: 'buttons',
          data: { text: 'Book a table?', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] },
          class: 'buttons',
          html: '',
          typenode: false,
          inputs: { input_1: { connections: [{ node: '1', input: 'output_1' }] } },
          outputs: { output_1: { connections: [{ node: '3', output: 'input_1' }] }, output_2: { connections: [] } },
          pos_x: 310.25,
          pos_y: -20,
        },
        '3': {
          id: 3,
          name: 'end',
          data: {},
          class: 'end',
          html: '',
          typenode: false,
          inputs: { input_1: { connections: [{ node: '2', input: 'output_1' }] } },
          outputs: {},
          pos_x: 600,
          pos_y: 15,
        },
      },
    },
  },
};

async function createFlow(account: Awaited<ReturnType<typeof signedInAccount>>, body: object = {}) {
  const res = await account.agent.post('/api/flows').send({ name: uniqueName('flow'), graph: graph(), ...body });
  if (res.status !== 201) throw new Error(`create flow failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string };
}

async function apiToken(user: Awaited<ReturnType<typeof signedInAccount>>['user']): Promise<string> {
  const { clientId, apiKey } = await apiCredentialsFor(stack, user);
  const res = await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId, apiKey });
  expect(res.status).toBe(200);
  return res.body.accessToken;
}

describe('flows', () => {
  it('creates, lists, shows, updates and deletes a flow', async () => {
    const owner = await signedInAccount(stack);
    const created = await owner.agent.post('/api/flows').send({ name: 'Customer Support', description: 'Handles customer inquiries', graph: graph() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Customer Support', description: 'Handles customer inquiries', status: 'draft', latestVersion: null, tenantId: owner.user.tenantId });
    const id = created.body.id;

    const list = await owner.agent.get('/api/flows');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      {
        id,
        tenantId: owner.user.tenantId,
        name: 'Customer Support',
        description: 'Handles customer inquiries',
        status: 'draft',
        latestVersion: null,
        whatsappLineId: null,
        createdBy: owner.user.id,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);

    const shown = await owner.agent.get(`/api/flows/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.graph.nodes.map((n: { id: string }) => n.id)).toEqual(['start', 'hello', 'bye']);
    expect(shown.body.graph.edges[0]).toEqual({ id: 'start:next->hello', source: 'start', sourceHandle: 'next', target: 'hello' });
    expect(Object.keys(shown.body.drawflowData.drawflow.Home.data)).toEqual(['start', 'hello', 'bye']);

    const updated = await owner.agent.put(`/api/flows/${id}`).send({ name: 'Support v2', description: null, graph: graph('Changed') });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Support v2', description: null });
    const reread = await owner.agent.get(`/api/flows/${id}`);
    expect(reread.body.graph.nodes[1].data).toEqual({ text: 'Changed', previewUrl: false });
    expect(reread.body.name).toBe('Support v2');

    expect((await owner.agent.put(`/api/flows/${id}`).send({})).status).toBe(400);
    expect((await owner.agent.delete(`/api/flows/${id}`)).body).toEqual({ success: true });
    expect((await owner.agent.get(`/api/flows/${id}`)).status).toBe(404);
    expect((await owner.agent.get('/api/flows')).body).toEqual([]);
  });

  it('refuses to activate a flow before a version is published, then activates, deactivates and filters by status', async () => {
    const owner = await signedInAccount(stack);
    const flow = await createFlow(owner);
    const early = await owner.agent.put(`/api/flows/${flow.id}`).send({ status: 'active' });
    expect(early.status).toBe(400);
    expect(early.body.error).toMatch(/publish a version first/);
    const activeAtBirth = await owner.agent.post('/api/flows').send({ name: 'x', status: 'active', graph: graph() });
    expect(activeAtBirth.status).toBe(400);
    expect(activeAtBirth.body.error).toMatch(/publish a version first/);

    expect((await owner.agent.post(`/api/flows/${flow.id}/versions`)).status).toBe(201);
    const active = await owner.agent.put(`/api/flows/${flow.id}`).send({ status: 'active' });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ status: 'active', latestVersion: 1 });
    const other = await createFlow(owner);

    const onlyActive = await owner.agent.get('/api/flows').query({ status: 'active' });
    expect(onlyActive.body.map((f: { id: string }) => f.id)).toEqual([flow.id]);
    const onlyDrafts = await owner.agent.get('/api/flows').query({ status: 'draft' });
    expect(onlyDrafts.body.map((f: { id: string }) => f.id)).toEqual([other.id]);

    // What the engine matches inbound messages against: active flows bound to the line, or to no line.
    const live = (lineId?: string) => activePublishedFlows(stack.orm.em.fork(), owner.user.tenantId, { lineId });
    const lineA = randomUUID();
    expect((await live()).map((f) => [f.flowId, f.version, f.whatsappLineId])).toEqual([[flow.id, 1, null]]);
    expect((await live(lineA)).map((f) => f.flowId)).toEqual([flow.id]);
    await sql('update flows set whatsapp_line_id = ? where id = ?', [lineA, flow.id]);
    expect((await live(lineA)).map((f) => [f.flowId, f.whatsappLineId])).toEqual([[flow.id, lineA]]);
    expect(await live(randomUUID())).toEqual([]);

    expect((await owner.agent.put(`/api/flows/${flow.id}`).send({ status: 'inactive' })).body.status).toBe('inactive');
    expect(await live()).toEqual([]);
    expect((await owner.agent.put(`/api/flows/${flow.id}`).send({ status: 'paused' })).status).toBe(400);
  });

  it('publishes versions 1 and 2 and never changes version 1 afterwards', async () => {
    const owner = await signedInAccount(stack);
    const flow = await createFlow(owner, { graph: graph('First words') });
    const v1 = await owner.agent.post(`/api/flows/${flow.id}/versions`);
    expect(v1.status).toBe(201);
    expect(v1.body).toEqual({ flowId: flow.id, version: 1, publishedAt: expect.any(String) });

    expect((await owner.agent.put(`/api/flows/${flow.id}`).send({ graph: graph('Second words') })).status).toBe(200);
    const v2 = await owner.agent.post(`/api/flows/${flow.id}/versions`);
    expect(v2.body.version).toBe(2);
    expect((await owner.agent.get(`/api/flows/${flow.id}`)).body.latestVersion).toBe(2);

    const first = await owner.agent.get(`/api/flows/${flow.id}/versions/1`);
    expect(first.status).toBe(200);
    expect(first.body.graph.nodes[1].data.text).toBe('First words');
    expect(first.body.drawflowData.drawflow.Home.data.hello.data.text).toBe('First words');
    expect((await owner.agent.get(`/api/flows/${flow.id}/versions/2`)).body.graph.nodes[1].data.text).toBe('Second words');
    expect((await owner.agent.get(`/api/flows/${flow.id}/versions/3`)).status).toBe(404);

    const list = await owner.agent.get(`/api/flows/${flow.id}/versions`);
    expect(list.body.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(list.body[0]).toEqual({ version: 2, publishedAt: expect.any(String), publishedBy: owner.user.id, shapeUpgradedAt: null });
    const withGraphs = await owner.agent.get(`/api/flows/${flow.id}/versions`).query({ include: 'graph' });
    expect(withGraphs.body.map((v: { graph: { nodes: Array<{ data: { text?: string } }> } }) => v.graph.nodes[1].data.text)).toEqual(['Second words', 'First words']);

    // There is no route to change a version, and the database refuses it too.
    expect((await owner.agent.put(`/api/flows/${flow.id}/versions/1`).send({ graph: graph('Hacked') })).status).toBe(405);
    await expect(sql(`update flow_versions set graph = '{"nodes":[],"edges":[]}' where flow_id = ? and version = 1`, [flow.id])).rejects.toThrow(/cannot be changed/);
    await expect(sql(`update flow_versions set version = 7 where flow_id = ? and version = 1`, [flow.id])).rejects.toThrow(/cannot be changed/);

    const em = stack.orm.em.fork();
    expect((await latestPublishedVersion(em, owner.user.tenantId, flow.id))).toMatchObject({ flowId: flow.id, version: 2 });
    expect((await getVersion(em, flow.id, 1))!.graph.nodes[1].data).toEqual({ text: 'First words', previewUrl: false });
    expect(await getVersion(em, flow.id, 1, randomUUID())).toBeNull();
  });

  it('numbers concurrent publishes one after the other', async () => {
    const owner = await signedInAccount(stack);
    const flow = await createFlow(owner);
    const racing = await Promise.all([1, 2, 3].map(() => owner.agent.post(`/api/flows/${flow.id}/versions`)));
    expect(racing.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(racing.map((r) => r.body.version).sort()).toEqual([1, 2, 3]);
    expect((await owner.agent.get(`/api/flows/${flow.id}`)).body.latestVersion).toBe(3);
  });

  it('refuses to publish an empty draft, or one that no longer matches the schema', async () => {
    const owner = await signedInAccount(stack);
    const created = await owner.agent.post('/api/flows').send({ name: 'Empty' });
    expect(created.status).toBe(201);
    expect(created.body.graph).toEqual({ nodes: [], edges: [] });
    const res = await owner.agent.post(`/api/flows/${created.body.id}/versions`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/no nodes/);
    expect(await latestPublishedVersion(stack.orm.em.fork(), owner.user.tenantId, created.body.id)).toBeNull();

    const stale = await createFlow(owner);
    await sql(`update flows set draft = jsonb_set(draft, '{nodes,1,type}', '"fax"') where id = ?`, [stale.id]);
    const refused = await owner.agent.post(`/api/flows/${stale.id}/versions`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/node "hello": unknown node type "fax"/);
  });

  it('answers 400 naming the node for an unknown node type or an edge to a missing node, and saves nothing', async () => {
    const owner = await signedInAccount(stack);
    const unknown = await owner.agent.post('/api/flows').send({ name: 'bad', graph: { nodes: [{ id: 'n7', type: 'teleport', data: {} }] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/node "n7": unknown node type "teleport"/);

    const flow = await createFlow(owner);
    const dangling = graph();
    dangling.edges.push({ source: 'bye', target: 'ghost' });
    const missing = await owner.agent.put(`/api/flows/${flow.id}`).send({ graph: dangling });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/node "bye": edge to missing node "ghost"/);

    const badDrawflow = structuredClone(drawflowData) as { drawflow: { Home: { data: Record<string, { name: string }> } } };
    badDrawflow.drawflow.Home.data['2'].name = 'mystery';
    const viaDrawflow = await owner.agent.put(`/api/flows/${flow.id}`).send({ drawflowData: badDrawflow });
    expect(viaDrawflow.status).toBe(400);
    expect(viaDrawflow.body.error).toMatch(/node "2": unknown node type "mystery"/);

    expect((await owner.agent.get(`/api/flows/${flow.id}`)).body.graph.edges).toHaveLength(2);
    expect((await owner.agent.get('/api/flows')).body).toHaveLength(1);
    expect((await owner.agent.post('/api/flows').send({ name: 'both', graph: graph(), drawflowData })).status).toBe(400);
  });

  it("imports the seed editor's drawflowData and gives it back unchanged", async () => {
    const owner = await signedInAccount(stack);
    const created = await owner.agent.post('/api/flows').send({ name: 'From the editor', drawflowData });
    expect(created.status).toBe(201);
    const shown = await owner.agent.get(`/api/flows/${created.body.id}`);
    expect(shown.body.drawflowData).toEqual(toDrawflow(fromDrawflow(drawflowData)));
    // Everything the editor saved comes back: ids, positions, connections, editor-only fields.
    expect(shown.body.drawflowData).toEqual(drawflowData);
    expect(shown.body.graph.edges).toEqual([
      { id: '1:next->2', source: '1', sourceHandle: 'next', target: '2' },
      { id: '2:button:yes->3', source: '2', sourceHandle: 'button:yes', target: '3' },
    ]);

    const moved = structuredClone(drawflowData);
    moved.drawflow.Home.data['3'].pos_x = 777.75;
    expect((await owner.agent.put(`/api/flows/${created.body.id}`).send({ drawflowData: moved })).status).toBe(200);
    expect((await owner.agent.get(`/api/flows/${created.body.id}`)).body.drawflowData).toEqual(moved);
  });

  it('lets an integrator list and create flows with an API token', async () => {
    const owner = await signedInAccount(stack);
    const token = await apiToken(owner.user);
    const created = await stack.http().post('/api/flows').set('Authorization', `Bearer ${token}`).send({ name: 'From the CRM', graph: graph() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: owner.user.tenantId, createdBy: owner.user.id });
    const list = await stack.http().get('/api/flows').set('Authorization', `Bearer ${token}`);
    expect(list.status).toBe(200);
    expect(list.body.map((f: { id: string }) => f.id)).toEqual([created.body.id]);
    expect((await stack.http().get('/api/flows')).status).toBe(401);
  });

  it("answers 404 to another tenant on every flow route, and changes nothing", async () => {
    const ownerA = await signedInAccount(stack);
    const ownerB = await signedInAccount(stack);
    const flow = await createFlow(ownerA);
    expect((await ownerA.agent.post(`/api/flows/${flow.id}/versions`)).status).toBe(201);
    await expectTenantIsolation({
      outsider: ownerB,
      routes: [
        { method: 'get', path: `/api/flows/${flow.id}` },
        { method: 'put', path: `/api/flows/${flow.id}`, body: { name: 'taken over', graph: graph('pwned') } },
        { method: 'delete', path: `/api/flows/${flow.id}` },
        { method: 'get', path: `/api/flows/${flow.id}/versions` },
        { method: 'post', path: `/api/flows/${flow.id}/versions` },
        { method: 'get', path: `/api/flows/${flow.id}/versions/1` },
      ],
      stillThere: async () => {
        const [row] = await sql('select name, latest_version, draft from flows where id = ?', [flow.id]);
        return Boolean(row && row.name === flow.name && row.latest_version === 1 && row.draft.nodes[1].data.text === 'Hello {{customerName}}');
      },
    });
    expect((await ownerB.agent.get('/api/flows')).body).toEqual([]);
    await expect(findFlowForTenant(stack.orm.em.fork(), ownerB.user.tenantId, flow.id)).rejects.toMatchObject({ kind: 'not_found' });
    expect(await latestPublishedVersion(stack.orm.em.fork(), ownerB.user.tenantId, flow.id)).toBeNull();
  });

  it('lets an administrator list the flows of another tenant or user, and nobody else', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const owner = await signedInAccount(stack);
    const member = await signedInAccount(stack, { role: 'user', tenantId: owner.user.tenantId });
    const byOwner = await createFlow(owner);
    const byMember = await createFlow(member);

    expect((await admin.agent.get('/api/flows').query({ tenantId: owner.user.tenantId })).body.map((f: { id: string }) => f.id).sort()).toEqual([byOwner.id, byMember.id].sort());
    expect((await admin.agent.get('/api/flows').query({ userId: member.user.id })).body.map((f: { id: string }) => f.id)).toEqual([byMember.id]);
    expect((await admin.agent.get('/api/flows')).body.map((f: { id: string }) => f.id)).not.toContain(byOwner.id);
    expect((await admin.agent.get(`/api/flows/${byOwner.id}`)).status).toBe(200);
    const adminToken = await apiToken(admin.user);
    expect((await stack.http().get(`/api/flows/${byOwner.id}`).set('Authorization', `Bearer ${adminToken}`)).status).toBe(404);
    expect((await owner.agent.get('/api/flows').query({ userId: member.user.id })).body.map((f: { id: string }) => f.id)).toEqual([byMember.id]);

    const outsider = await signedInAccount(stack);
    expect((await outsider.agent.get('/api/flows').query({ tenantId: owner.user.tenantId })).status).toBe(403);
    expect((await outsider.agent.get('/api/flows').query({ userId: member.user.id })).body).toEqual([]);
  });
});

describe('POST /api/flows/fix-shay', () => {
  async function insertLegacyFlow(tenantId: string, draft: unknown, versions: unknown[]) {
    const id = randomUUID();
    await sql(`insert into flows (id, tenant_id, name, status, draft, latest_version) values (?, ?, ?, ?, ?::jsonb, ?)`, [
      id,
      tenantId,
      uniqueName('legacy'),
      versions.length ? 'active' : 'draft',
      JSON.stringify(draft),
      versions.length || null,
    ]);
    for (const [i, graph] of versions.entries()) {
      await sql(`insert into flow_versions (id, flow_id, tenant_id, version, graph) values (?, ?, ?, ?, ?::jsonb)`, [randomUUID(), id, tenantId, i + 1, JSON.stringify(graph)]);
    }
    return id;
  }

  const stored = async (flowId: string) => {
    const [flow] = await sql('select draft from flows where id = ?', [flowId]);
    const versions = await sql('select version, graph, shape_upgraded_at from flow_versions where flow_id = ? order by version', [flowId]);
    return { draft: flow.draft, versions };
  };

  it('reports what it would change in a dry run and changes nothing, then upgrades for real', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const customer = await signedInAccount(stack);
    const tenantId = customer.user.tenantId;
    const brokenVersion = { nodes: [{ id: 'x9', type: 'teleport', data: {} }], edges: [] };
    const legacyId = await insertLegacyFlow(tenantId, legacyFlowGraph, [legacyFlowGraph, brokenVersion]);
    const current = await createFlow(customer);
    const before = await stored(legacyId);

    const dry = await admin.agent.post('/api/flows/fix-shay').send({ tenantId });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.scanned).toEqual({ flows: 2, versions: 2 });
    expect(dry.body.changed.map((c: { flowId: string; where: string }) => [c.flowId, c.where])).toEqual([
      [legacyId, 'draft'],
      [legacyId, 'version 1'],
    ]);
    expect(dry.body.changed[0].changes).toEqual(
      expect.arrayContaining([
        'node "1": outbound_trigger → trigger_outbound',
        'node "2": message → send_text (data.message → data.text)',
        'node "4": delay → wait (waits 300 s)',
        'node "3": edge exit output_2 → button:option_2',
      ]),
    );
    expect(dry.body.invalid).toEqual([{ flowId: legacyId, tenantId, where: 'version 2', errors: [expect.stringMatching(/node "x9": unknown node type "teleport"/)] }]);
    expect(dry.body.changed.map((c: { flowId: string }) => c.flowId)).not.toContain(current.id);
    expect(await stored(legacyId)).toEqual(before);
    // With no body at all it is a dry run too.
    expect((await admin.agent.post('/api/flows/fix-shay')).body.dryRun).toBe(true);
    expect(await stored(legacyId)).toEqual(before);

    // Before the migration, readers already see current shapes: the editor, and the engine through the repository.
    const draftShown = await customer.agent.get(`/api/flows/${legacyId}`);
    expect(draftShown.body.graph.nodes[1]).toMatchObject({ type: 'send_text', data: { text: 'Hi {{customerName}}' } });
    expect(draftShown.body.drawflowData.drawflow.Home.data['3'].outputs.output_2.connections).toEqual([{ node: '5', output: 'input_1' }]);
    const em = stack.orm.em.fork();
    expect((await getVersion(em, legacyId, 1, tenantId))!.graph.nodes[3]).toMatchObject({ type: 'wait', data: { mode: 'duration', seconds: 300 } });
    await expect(getVersion(em, legacyId, 2, tenantId)).rejects.toThrow(/version 2 does not match the flow schema: node "x9"/);

    const real = await admin.agent.post('/api/flows/fix-shay').send({ tenantId, dryRun: false });
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ dryRun: false, changed: dry.body.changed, invalid: dry.body.invalid });
    const after = await stored(legacyId);
    expect(after.draft.nodes.map((n: { type: string }) => n.type)).toEqual(['trigger_outbound', 'send_text', 'buttons', 'wait', 'end']);
    expect(after.draft.nodes[3].data).toEqual({ mode: 'duration', seconds: 300 });
    expect(after.versions[0].graph).toEqual(after.draft);
    expect(after.versions[0].shape_upgraded_at).not.toBeNull();
    expect(before.versions[0].shape_upgraded_at).toBeNull();
    expect(after.versions[1]).toEqual(before.versions[1]); // still invalid: reported, never rewritten

    const shown = await customer.agent.get(`/api/flows/${legacyId}/versions/1`);
    expect(shown.body.graph.edges.find((e: { source: string; target: string }) => e.source === '3' && e.target === '5').sourceHandle).toBe('button:option_2');
    expect(shown.body.shapeUpgradedAt).not.toBeNull();

    const again = await admin.agent.post('/api/flows/fix-shay').send({ tenantId, dryRun: false });
    expect(again.body.changed).toEqual([]);
    expect(again.body.invalid).toHaveLength(1);
  });

  it('is for administrators with a session only', async () => {
    const owner = await signedInAccount(stack);
    expect((await owner.agent.post('/api/flows/fix-shay').send({})).status).toBe(403);
    const admin = await signedInAccount(stack, { role: 'admin' });
    const token = await apiToken(admin.user);
    expect((await stack.http().post('/api/flows/fix-shay').set('Authorization', `Bearer ${token}`).send({})).status).toBe(403);
  });
});
