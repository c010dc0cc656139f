import { openTestStack, type TestStack } from '../support/stack';
import { signedInAccount, uniqueIp, uniqueName } from '../support/accounts';
import { expectTenantIsolation } from '../support/tenant-isolation';
import { User } from '../../core/db/entities';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

const exists = async (id: string) => Boolean(await stack.orm.em.fork().findOne(User, { id }));

describe('user administration', () => {
  it('lets an admin approve API use with PUT /api/users/{id}, which unblocks api-token', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const customer = await signedInAccount(stack);
    const keys = (await customer.agent.post('/api/settings/api-access/rotate')).body;
    const blocked = await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId: keys.clientId, apiKey: keys.apiKey });
    expect(blocked.status).toBe(403);
    const approved = await admin.agent.put(`/api/users/${customer.user.id}`).send({ apiAccessApproved: true });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: customer.user.id, apiAccessApproved: true, hasApiCredentials: true });
    const ok = await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId: keys.clientId, apiKey: keys.apiKey });
    expect(ok.status).toBe(200);
  });

  it('does not let an owner approve API use', async () => {
    const owner = await signedInAccount(stack);
    const res = await owner.agent.put(`/api/users/${owner.user.id}`).send({ apiAccessApproved: true });
    expect(res.status).toBe(403);
  });

  it('lets an owner create, list, change role, disable and delete users of its tenant', async () => {
    const owner = await signedInAccount(stack);
    const username = uniqueName('agent');
    const created = await owner.agent.post('/api/users').send({ username, password: 'password123', role: 'user' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username, role: 'user', tenantId: owner.user.tenantId, disabled: false });
    const dup = await owner.agent.post('/api/users').send({ username, password: 'password123' });
    expect(dup.status).toBe(409);

    const list = await owner.agent.get('/api/users');
    expect(list.body.users.map((u: { username: string }) => u.username).sort()).toEqual([owner.user.username, username].sort());
    expect(list.body.total).toBe(2);

    const id = created.body.id;
    expect((await owner.agent.put(`/api/users/${id}`).send({ role: 'owner' })).body.role).toBe('owner');
    expect((await owner.agent.put(`/api/users/${id}`).send({ disabled: true })).body.disabled).toBe(true);
    const login = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username, password: 'password123' });
    expect(login.status).toBe(403);
    expect((await owner.agent.delete(`/api/users/${id}`)).body).toEqual({ success: true });
    expect(await exists(id)).toBe(false);
  });

  it('refuses to let an owner create an administrator', async () => {
    const owner = await signedInAccount(stack);
    const res = await owner.agent.post('/api/users').send({ username: uniqueName('boss'), password: 'password123', role: 'admin' });
    expect(res.status).toBe(403);
  });

  it('keeps users out of user administration', async () => {
    const owner = await signedInAccount(stack);
    const member = await signedInAccount(stack, { role: 'user', tenantId: owner.user.tenantId });
    expect((await member.agent.get('/api/users')).status).toBe(403);
    expect((await member.agent.put(`/api/users/${owner.user.id}`).send({ disabled: true })).status).toBe(403);
    expect((await member.agent.get(`/api/users/${member.user.id}`)).status).toBe(200);
    expect((await member.agent.get(`/api/users/${owner.user.id}`)).status).toBe(404);
  });

  it('stops a manager from disabling or deleting itself', async () => {
    const owner = await signedInAccount(stack);
    expect((await owner.agent.put(`/api/users/${owner.user.id}`).send({ disabled: true })).status).toBe(400);
    expect((await owner.agent.delete(`/api/users/${owner.user.id}`)).status).toBe(400);
  });

  it('lets an admin see users of every tenant', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const other = await signedInAccount(stack);
    const res = await admin.agent.get('/api/users').query({ tenantId: other.user.tenantId });
    expect(res.body.users.map((u: { id: string }) => u.id)).toEqual([other.user.id]);
    expect((await admin.agent.get(`/api/users/${other.user.id}`)).status).toBe(200);
  });

  it("answers 404 to another tenant's owner on every user route, and changes nothing", async () => {
    const ownerA = await signedInAccount(stack);
    const ownerB = await signedInAccount(stack);
    const id = ownerA.user.id;
    await expectTenantIsolation({
      outsider: ownerB,
      routes: [
        { method: 'get', path: `/api/users/${id}` },
        { method: 'put', path: `/api/users/${id}`, body: { disabled: true } },
        { method: 'delete', path: `/api/users/${id}` },
      ],
      stillThere: async () => {
        const user = await stack.orm.em.fork().findOne(User, { id });
        return Boolean(user && !user.disabled);
      },
    });
    const list = await ownerB.agent.get('/api/users');
    expect(list.body.users.map((u: { id: string }) => u.id)).not.toContain(id);
  });

  it('answers 400 naming the field for a malformed id or body', async () => {
    const owner = await signedInAccount(stack);
    const badId = await owner.agent.get('/api/users/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatch(/id/);
    const badBody = await owner.agent.put(`/api/users/${owner.user.id}`).send({ email: 'nope' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toMatch(/email/);
    const empty = await owner.agent.put(`/api/users/${owner.user.id}`).send({});
    expect(empty.status).toBe(400);
  });
});
