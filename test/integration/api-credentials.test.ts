import request from 'supertest';
import { openTestStack, type TestStack } from '../support/stack';
import { apiCredentialsFor, signedInAccount, uniqueIp } from '../support/accounts';
import { User } from '../../core/db/entities';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

const exchange = (body: object) => stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send(body);

describe('API credentials', () => {
  it('shows the key once on rotation and stores only its hash', async () => {
    const { agent, user } = await signedInAccount(stack);
    const before = await agent.get('/api/settings/api-access');
    expect(before.body).toEqual({ clientId: null, keyPrefix: null, rotatedAt: null, apiAccessApproved: false });
    const rotated = await agent.post('/api/settings/api-access/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.clientId).toMatch(/^aiflow_[0-9a-f]+$/);
    expect(rotated.body.apiKey).toMatch(/^sk_[0-9a-f]{48}$/);
    const after = await agent.get('/api/settings/api-access');
    expect(after.body.clientId).toBe(rotated.body.clientId);
    expect(after.body).not.toHaveProperty('apiKey');
    const [row] = await stack.orm.em.getConnection().execute('select key_hash from api_credentials where user_id = ?', [user.id]);
    expect(row.key_hash).not.toContain(rotated.body.apiKey);
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a token while API use is not approved (403)', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user, false);
    const res = await exchange({ clientId, apiKey });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/not approved/);
  });

  it('gives an approved account a Bearer JWT in the seed shape that works on Bearer routes', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user);
    const res = await exchange({ clientId, apiKey, ttlSec: 600 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      tokenType: 'Bearer',
      accessToken: expect.stringMatching(/^eyJ/),
      expiresInSec: 600,
      clientNumber: user.id,
      clientId,
    });
    const me = await stack.http().get('/api/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { id: user.id, tenantId: user.tenantId }, auth: 'api' });
  });

  it('defaults ttlSec to 3600 and refuses more than 86400', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user);
    expect((await exchange({ clientId, apiKey })).body.expiresInSec).toBe(3600);
    const tooLong = await exchange({ clientId, apiKey, ttlSec: 86401 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatch(/ttlSec/);
  });

  it('answers 401 for a wrong key or an unknown client id', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user);
    // Another last character (a fixed one would be the key itself one time in sixteen).
    const wrong = `${apiKey.slice(0, -1)}${apiKey.endsWith('0') ? '1' : '0'}`;
    expect((await exchange({ clientId, apiKey: wrong })).status).toBe(401);
    expect((await exchange({ clientId: 'aiflow_unknown', apiKey })).status).toBe(401);
  });

  it('invalidates the old key and tokens minted with it as soon as the key is rotated', async () => {
    const { agent, user } = await signedInAccount(stack);
    const old = await apiCredentialsFor(stack, user);
    const token = (await exchange({ clientId: old.clientId, apiKey: old.apiKey })).body.accessToken;
    const rotated = await agent.post('/api/settings/api-access/rotate');
    expect(rotated.body.clientId).toBe(old.clientId);
    const withOldKey = await exchange({ clientId: old.clientId, apiKey: old.apiKey });
    expect(withOldKey.status).toBe(401);
    const withOldToken = await stack.http().get('/api/auth/me').set('Authorization', `Bearer ${token}`);
    expect(withOldToken.status).toBe(401);
    expect(withOldToken.body.error).toMatch(/rotated/);
    expect((await exchange({ clientId: old.clientId, apiKey: rotated.body.apiKey })).status).toBe(200);
  });

  it('stops an issued token at once when approval is withdrawn', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user);
    const token = (await exchange({ clientId, apiKey })).body.accessToken;
    const em = stack.orm.em.fork();
    (await em.findOneOrFail(User, { id: user.id })).apiAccessApproved = false;
    await em.flush();
    expect((await stack.http().get('/api/auth/me').set('Authorization', `Bearer ${token}`)).status).toBe(403);
  });

  it('keeps session-only routes closed to API tokens', async () => {
    const { user } = await signedInAccount(stack);
    const { clientId, apiKey } = await apiCredentialsFor(stack, user);
    const token = (await exchange({ clientId, apiKey })).body.accessToken;
    const res = await stack.http().post('/api/settings/api-access/rotate').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
  });

  it('rate limits api-token to 10 requests per 15 minutes per IP', async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 10; i++) {
      expect((await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', ip).send({ clientId: 'x', apiKey: 'y' })).status).toBe(401);
    }
    const limited = await stack.http().post('/api/auth/api-token').set('X-Forwarded-For', ip).send({ clientId: 'x', apiKey: 'y' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rejects a forged or garbage Bearer token with 401', async () => {
    const res = await request(stack.app.callback()).get('/api/auth/me').set('Authorization', 'Bearer not-a-jwt');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Invalid token' });
  });
});
