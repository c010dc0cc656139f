import { openTestStack, type TestStack } from '../support/stack';
import { signedInAccount, uniqueIp, uniqueName } from '../support/accounts';
import { createAccount } from '../../core/auth/users';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack.close());

describe('login', () => {
  it('sets the HTTP-only wdf_token cookie and answers with the seed shape', async () => {
    const username = uniqueName('alice');
    await createAccount(stack.orm.em.fork(), { username, password: 'password123', email: `${username}@example.test`, displayName: 'Alice' });
    const res = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username, password: 'password123' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: expect.any(String), username, displayName: 'Alice', email: `${username}@example.test`, role: 'owner' } });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^wdf_token=[^;]+;/);
    expect(cookie.toLowerCase()).toContain('httponly');
    expect(cookie.toLowerCase()).toContain('samesite=lax');
  });

  it('lets the cookie open cookie routes', async () => {
    const { agent, user } = await signedInAccount(stack);
    const me = await agent.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
    expect(me.body.auth).toBe('session');
  });

  it('rejects a wrong password with 401 and the error body, and sets no cookie', async () => {
    const username = uniqueName('bob');
    await createAccount(stack.orm.em.fork(), { username, password: 'password123' });
    const res = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username, password: 'wrong-password' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Invalid username or password' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('rejects an unknown user exactly like a wrong password', async () => {
    const res = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: uniqueName('nobody'), password: 'x' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Invalid username or password' });
  });

  it('answers 429 with Retry-After after 10 attempts from one IP in 15 minutes', async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 10; i++) {
      const res = await stack.http().post('/api/auth/login').set('X-Forwarded-For', ip).send({ username: 'nobody', password: 'x' });
      expect(res.status).toBe(401);
    }
    const limited = await stack.http().post('/api/auth/login').set('X-Forwarded-For', ip).send({ username: 'nobody', password: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/Too many requests/);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    const otherIp = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: 'nobody', password: 'x' });
    expect(otherIp.status).toBe(401);
  });

  it('refuses a disabled account', async () => {
    const username = uniqueName('carol');
    const em = stack.orm.em.fork();
    const user = await createAccount(em, { username, password: 'password123' });
    user.disabled = true;
    await em.flush();
    const res = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username, password: 'password123' });
    expect(res.status).toBe(403);
  });
});

describe('register', () => {
  it('creates an owner in a tenant of its own and signs in', async () => {
    const username = uniqueName('dana');
    const res = await stack.http().post('/api/auth/register').send({ username, password: 'password123', email: `${username}@example.test` });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ username, role: 'owner' });
    expect(String(res.headers['set-cookie'])).toMatch(/wdf_token=/);
  });

  it('answers 409 for a username that is taken', async () => {
    const username = uniqueName('erin');
    expect((await stack.http().post('/api/auth/register').send({ username, password: 'password123' })).status).toBe(201);
    const dup = await stack.http().post('/api/auth/register').send({ username, password: 'password456' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatch(/already taken/);
  });

  it('answers 400 naming the field when input is invalid', async () => {
    const res = await stack.http().post('/api/auth/register').send({ username: uniqueName('frank'), password: 'short' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/password/);
  });
});

describe('logout, language and theme', () => {
  it('clears the cookie on logout', async () => {
    const { agent } = await signedInAccount(stack);
    const res = await agent.post('/api/auth/logout');
    expect(res.status).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(/wdf_token=;/);
    expect((await agent.get('/api/auth/me')).status).toBe(401);
  });

  it('saves language and theme for the user', async () => {
    const { agent } = await signedInAccount(stack);
    expect((await agent.post('/api/auth/language').send({ language: 'he' })).body).toEqual({ success: true, language: 'he' });
    expect((await agent.post('/api/auth/theme').send({ theme: 'dark' })).body).toEqual({ success: true, theme: 'dark' });
    const me = await agent.get('/api/auth/me');
    expect(me.body.user).toMatchObject({ language: 'he', theme: 'dark' });
    expect((await agent.post('/api/auth/theme').send({ theme: 'purple' })).status).toBe(400);
  });
});
