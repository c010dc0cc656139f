import { secretBoxFor } from '../../core/crypto/secret-box';
import { signedInAccount, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';
import { expectTenantIsolation } from '../support/tenant-isolation';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack?.close());

const secretKey = 'sk-proj-very-secret-0123456789-abcd';
const rowOf = async (id: string) =>
  (await stack.orm.em.getConnection().execute<Array<{ api_key_sealed: string | null; api_key_hint: string; is_default: boolean }>>(`select * from ai_providers where id = ?`, [id]))[0];

describe('AI provider settings', () => {
  let owner: TestAccount;
  beforeEach(async () => {
    owner = await signedInAccount(stack);
  });

  it('stores the API key encrypted, never returns it, and shows only its last four characters', async () => {
    const created = await owner.agent.post('/api/settings/ai').send({ name: 'OpenAI', apiKey: secretKey, models: { generation: 'gpt-4.1' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'OpenAI',
      kind: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      apiKey: '****abcd',
      models: { generation: 'gpt-4.1', replies: 'gpt-4.1-mini', embeddings: 'text-embedding-3-small' },
      isDefault: true,
    });
    const listed = await owner.agent.get('/api/settings/ai');
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ defaultProviderId: created.body.id, providers: [{ id: created.body.id, apiKey: '****abcd' }] });
    expect(JSON.stringify([created.body, listed.body])).not.toContain('very-secret');

    const row = await rowOf(created.body.id);
    expect(row.api_key_sealed).toMatch(/^v1:/);
    expect(row.api_key_sealed).not.toContain('very-secret');
    // Sealed for this row: it opens with the installation key and the provider's id, and with nothing else.
    const box = secretBoxFor(stack.deps.config);
    expect(box.open(row.api_key_sealed!, `ai_providers.api_key:${created.body.id}`)).toBe(secretKey);
    expect(() => box.open(row.api_key_sealed!, 'ai_providers.api_key:another-row')).toThrow();

    // A new key replaces the sealed one; leaving apiKey out keeps it.
    await owner.agent.post('/api/settings/ai').send({ id: created.body.id, apiKey: 'sk-second-key-00000000-wxyz' }).expect(200);
    expect((await owner.agent.post('/api/settings/ai').send({ id: created.body.id, name: 'Renamed' })).body).toMatchObject({ name: 'Renamed', apiKey: '****wxyz' });
  });

  it('keeps exactly one default: the first provider, then the one marked default; deleting the default promotes the oldest', async () => {
    const a = (await owner.agent.post('/api/settings/ai').send({ name: 'A', apiKey: secretKey })).body;
    const b = (await owner.agent.post('/api/settings/ai').send({ name: 'Local', kind: 'openai_compatible', baseUrl: 'http://127.0.0.1:11434/v1' })).body;
    expect(b).toMatchObject({ isDefault: false, apiKey: null, baseUrl: 'http://127.0.0.1:11434/v1' });
    await owner.agent.post('/api/settings/ai').send({ id: b.id, isDefault: true }).expect(200);
    expect((await owner.agent.get('/api/settings/ai')).body).toMatchObject({ defaultProviderId: b.id, providers: [{ id: b.id, isDefault: true }, { id: a.id, isDefault: false }] });

    expect((await owner.agent.delete(`/api/settings/ai/${b.id}`)).body).toEqual({ success: true });
    expect((await owner.agent.get('/api/settings/ai')).body).toMatchObject({ defaultProviderId: a.id, providers: [{ id: a.id, isDefault: true }] });
    expect((await owner.agent.delete(`/api/settings/ai?id=${a.id}`)).status).toBe(200);
    expect((await owner.agent.get('/api/settings/ai')).body).toMatchObject({ providers: [], defaultProviderId: null });
  });

  it('refuses a provider it could not call, and a second provider of the same name', async () => {
    expect((await owner.agent.post('/api/settings/ai').send({ name: 'NoKey' })).body.error).toMatch(/apiKey: required for an OpenAI provider/);
    expect((await owner.agent.post('/api/settings/ai').send({ name: 'NoUrl', kind: 'openai_compatible' })).body.error).toMatch(/baseUrl: required/);
    expect((await owner.agent.post('/api/settings/ai').send({ name: 'Bad', kind: 'openai_compatible', baseUrl: 'ftp://x.example' })).status).toBe(400);
    await owner.agent.post('/api/settings/ai').send({ name: 'Twice', apiKey: secretKey }).expect(201);
    const again = await owner.agent.post('/api/settings/ai').send({ name: 'Twice', apiKey: secretKey });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already exists/);
  });

  it("answers another tenant's provider as absent, and lists only the caller's", async () => {
    const created = (await owner.agent.post('/api/settings/ai').send({ name: 'Mine', apiKey: secretKey })).body;
    const outsider = await signedInAccount(stack);
    expect((await outsider.agent.get('/api/settings/ai')).body.providers).toEqual([]);
    await expectTenantIsolation({
      outsider,
      routes: [
        { method: 'post', path: '/api/settings/ai', body: { id: created.id, apiKey: 'sk-stolen-000000000000' } },
        { method: 'delete', path: `/api/settings/ai/${created.id}` },
        { method: 'delete', path: `/api/settings/ai?id=${created.id}` },
      ],
      stillThere: async () => (await rowOf(created.id))?.api_key_hint === 'abcd',
    });
  });

  it('shows the installation provider from OPENAI_* without its key', async () => {
    const other = await openTestStack({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-installation-secret-1234', OPENAI_MODEL: 'gpt-4.1-nano' });
    try {
      const user = await signedInAccount(other);
      const res = await user.agent.get('/api/settings/ai');
      expect(res.body.installation).toEqual({
        name: 'installation default',
        baseUrl: 'http://127.0.0.1:9/v1',
        models: { generation: 'gpt-4.1-nano', replies: 'gpt-4.1-nano', embeddings: 'text-embedding-3-small' },
      });
      expect(JSON.stringify(res.body)).not.toContain('installation-secret');
      expect((await owner.agent.get('/api/settings/ai')).body.installation).toBeNull();
    } finally {
      await other.close();
    }
  });
});
