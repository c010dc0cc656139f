import { randomBytes, randomInt } from 'node:crypto';
import { decryptedAccessToken, findLineByPhoneNumberId, primaryLine } from '../../core/channels/lines';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { WhatsAppLine } from '../../core/db/entities';
import { apiCredentialsFor, signedInAccount, uniqueIp, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';
import { expectTenantIsolation } from '../support/tenant-isolation';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

const phoneNumberId = () => String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000, 999_999));
const accessToken = () => `EAAG${randomBytes(30).toString('hex')}`;

function newLine(overrides: Record<string, unknown> = {}) {
  return { phoneNumberId: phoneNumberId(), wabaId: '102290129340398', displayPhoneNumber: '+1 555 0100', accessToken: accessToken(), ...overrides };
}

async function connect(account: TestAccount, overrides: Record<string, unknown> = {}) {
  const body = newLine(overrides);
  const res = await account.agent.post('/api/settings/whatsapp').send(body);
  if (res.status !== 201) throw new Error(`line creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { sent: body, line: res.body };
}

async function rawRow(id: string): Promise<Record<string, unknown>> {
  const [row] = await stack.orm.em.getConnection().execute('select * from whatsapp_lines where id = ?', [id]);
  return row;
}

const linesOf = async (account: TestAccount) => (await account.agent.get('/api/settings/whatsapp')).body.lines as { id: string; isPrimary: boolean }[];

describe('WhatsApp lines', () => {
  it('connects a line, shows its access token only masked, and stores it encrypted', async () => {
    const owner = await signedInAccount(stack);
    const { sent, line } = await connect(owner, { verifyToken: 'my-verify-token-1' });
    expect(line).toMatchObject({
      tenantId: owner.user.tenantId,
      phoneNumberId: sent.phoneNumberId,
      wabaId: sent.wabaId,
      displayPhoneNumber: '+1 555 0100',
      accessToken: `****${sent.accessToken.slice(-4)}`,
      verifyToken: 'my-verify-token-1',
      isPrimary: true,
      status: 'active',
    });

    const list = await owner.agent.get('/api/settings/whatsapp');
    expect(list.status).toBe(200);
    expect(list.body.lines).toHaveLength(1);
    expect(list.body.lines[0]).toMatchObject({ id: line.id, accessToken: `****${sent.accessToken.slice(-4)}`, verifyToken: 'my-verify-token-1' });
    expect(JSON.stringify(list.body)).not.toContain(sent.accessToken.slice(0, -4));
    expect(JSON.stringify((await owner.agent.get(`/api/settings/whatsapp/${line.id}`)).body)).not.toContain(sent.accessToken.slice(0, -4));

    const row = await rawRow(line.id);
    expect(JSON.stringify(row)).not.toContain(sent.accessToken.slice(0, -4));
    expect(row.access_token_sealed).toMatch(/^v1:[0-9a-f]{8}:/);
    // The engine gets the token back through the repository.
    const stored = await findLineByPhoneNumberId(stack.orm.em.fork(), sent.phoneNumberId);
    expect(decryptedAccessToken(stored!, secretBoxFor(stack.deps.config))).toBe(sent.accessToken);
  });

  it('generates a verify token when none is given', async () => {
    const owner = await signedInAccount(stack);
    const { line } = await connect(owner);
    expect(line.verifyToken).toMatch(/^[A-Za-z0-9_-]{24,}$/);
  });

  it('accepts an API Bearer token as well as the session', async () => {
    const owner = await signedInAccount(stack);
    const keys = await apiCredentialsFor(stack, owner.user);
    const token = (await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId: keys.clientId, apiKey: keys.apiKey })).body.accessToken;
    const created = await stack.http().post('/api/settings/whatsapp').set('Authorization', `Bearer ${token}`).send(newLine());
    expect(created.status).toBe(201);
    const list = await stack.http().get('/api/settings/whatsapp').set('Authorization', `Bearer ${token}`);
    expect(list.body.lines.map((l: { id: string }) => l.id)).toEqual([created.body.id]);
    expect((await stack.http().get('/api/settings/whatsapp')).status).toBe(401);
  });

  it('updates a line by phone number id with a new token, and by id', async () => {
    const owner = await signedInAccount(stack);
    const { sent, line } = await connect(owner);
    const newToken = accessToken();
    const byPhone = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId: sent.phoneNumberId, accessToken: newToken });
    expect(byPhone.status).toBe(200);
    expect(byPhone.body).toMatchObject({ id: line.id, accessToken: `****${newToken.slice(-4)}`, wabaId: sent.wabaId });
    const stored = await findLineByPhoneNumberId(stack.orm.em.fork(), sent.phoneNumberId);
    expect(decryptedAccessToken(stored!, secretBoxFor(stack.deps.config))).toBe(newToken);

    const byId = await owner.agent.post('/api/settings/whatsapp').send({ id: line.id, phoneNumberId: sent.phoneNumberId, displayPhoneNumber: '+1 555 0199' });
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ id: line.id, displayPhoneNumber: '+1 555 0199' });
    const put = await owner.agent.put(`/api/settings/whatsapp/${line.id}`).send({ status: 'disabled' });
    expect(put.body).toMatchObject({ id: line.id, status: 'disabled' });
    expect(await linesOf(owner)).toHaveLength(1);
  });

  it('clears needs_reauth when the line gets a new token', async () => {
    const owner = await signedInAccount(stack);
    const { line } = await connect(owner);
    await stack.orm.em.getConnection().execute(`update whatsapp_lines set status = 'needs_reauth' where id = ?`, [line.id]);
    const res = await owner.agent.put(`/api/settings/whatsapp/${line.id}`).send({ accessToken: accessToken() });
    expect(res.body.status).toBe('active');
  });

  it('keeps exactly one primary line per tenant', async () => {
    const owner = await signedInAccount(stack);
    const first = (await connect(owner)).line;
    const second = (await connect(owner)).line;
    expect(first.isPrimary).toBe(true);
    expect(second.isPrimary).toBe(false);

    const promoted = await owner.agent.put(`/api/settings/whatsapp/${second.id}`).send({ isPrimary: true });
    expect(promoted.body.isPrimary).toBe(true);
    expect((await linesOf(owner)).filter((l) => l.isPrimary).map((l) => l.id)).toEqual([second.id]);
    expect((await primaryLine(stack.orm.em.fork(), owner.user.tenantId))?.id).toBe(second.id);

    const third = (await connect(owner, { isPrimary: true })).line;
    expect(third.isPrimary).toBe(true);
    expect((await linesOf(owner)).filter((l) => l.isPrimary).map((l) => l.id)).toEqual([third.id]);

    const unset = await owner.agent.put(`/api/settings/whatsapp/${third.id}`).send({ isPrimary: false });
    expect(unset.status).toBe(400);
    expect(unset.body.error).toMatch(/isPrimary/);

    expect((await owner.agent.delete(`/api/settings/whatsapp/${third.id}`)).body).toEqual({ success: true });
    const left = await linesOf(owner);
    expect(left.map((l) => l.id).sort()).toEqual([first.id, second.id].sort());
    expect(left.filter((l) => l.isPrimary).map((l) => l.id)).toEqual([first.id]);
  });

  it('makes exactly one of several lines created at once primary', async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await signedInAccount(stack);
      const results = await Promise.all(Array.from({ length: 5 }, () => owner.agent.post('/api/settings/whatsapp').send(newLine())));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect((await linesOf(owner)).filter((l) => l.isPrimary)).toHaveLength(1);
    }
  });

  it("answers 409 for a phone number id connected to another tenant, and leaves that line alone", async () => {
    const ownerA = await signedInAccount(stack);
    const ownerB = await signedInAccount(stack);
    const { sent, line } = await connect(ownerA);
    const before = await rawRow(line.id);
    const res = await ownerB.agent.post('/api/settings/whatsapp').send(newLine({ phoneNumberId: sent.phoneNumberId }));
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/another account/);
    const mine = (await connect(ownerB)).line;
    const moved = await ownerB.agent.put(`/api/settings/whatsapp/${mine.id}`).send({ phoneNumberId: sent.phoneNumberId });
    expect(moved.status).toBe(409);
    expect(await rawRow(line.id)).toEqual(before);
    expect(await linesOf(ownerB)).toHaveLength(1);
  });

  it("answers 404 to another tenant on every line route, and changes nothing", async () => {
    const ownerA = await signedInAccount(stack);
    const ownerB = await signedInAccount(stack);
    const { sent, line } = await connect(ownerA);
    const before = await rawRow(line.id);
    await expectTenantIsolation({
      outsider: ownerB,
      routes: [
        { method: 'get', path: `/api/settings/whatsapp/${line.id}` },
        { method: 'put', path: `/api/settings/whatsapp/${line.id}`, body: { status: 'disabled', accessToken: 'stolen-token-value' } },
        { method: 'post', path: '/api/settings/whatsapp', body: { id: line.id, phoneNumberId: sent.phoneNumberId, accessToken: 'stolen-token-value' } },
        { method: 'delete', path: `/api/settings/whatsapp/${line.id}` },
      ],
      stillThere: async () => JSON.stringify(await rawRow(line.id)) === JSON.stringify(before),
    });
    expect(await linesOf(ownerB)).toEqual([]);
  });

  it('answers 400 naming the field', async () => {
    const owner = await signedInAccount(stack);
    const badPhone = await owner.agent.post('/api/settings/whatsapp').send(newLine({ phoneNumberId: '+1 555 0100' }));
    expect(badPhone.status).toBe(400);
    expect(badPhone.body.error).toMatch(/phoneNumberId/);
    const emptyToken = await owner.agent.post('/api/settings/whatsapp').send(newLine({ accessToken: '   ' }));
    expect(emptyToken.status).toBe(400);
    expect(emptyToken.body.error).toMatch(/accessToken/);
    const noToken = await owner.agent.post('/api/settings/whatsapp').send(newLine({ accessToken: undefined }));
    expect(noToken.status).toBe(400);
    expect(noToken.body.error).toMatch(/accessToken: required/);
    const badId = await owner.agent.get('/api/settings/whatsapp/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatch(/id/);
    const emptyPut = await owner.agent.put(`/api/settings/whatsapp/${(await connect(owner)).line.id}`).send({});
    expect(emptyPut.status).toBe(400);
    expect(await stack.orm.em.fork().count(WhatsAppLine, { tenantId: owner.user.tenantId })).toBe(1);
  });
});
