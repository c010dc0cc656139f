import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createAccount } from '../../core/auth/users';
import { User } from '../../core/db/entities';
import { uniqueName } from '../support/accounts';
import { freePort } from '../support/free-port';
import { openTestStack, type TestStack } from '../support/stack';

/**
 * Google's side, played locally: an RSA signing key, its public half served as a JWKS on 127.0.0.1, and ID
 * tokens signed with it. No request leaves the machine.
 */
const CLIENT_ID = 'test-client';
const ISSUER = 'https://accounts.google.com';
const newRsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const google = { kid: 'test-key-1', ...newRsaKey() };

let jwksServer: http.Server;
let jwksRequests = 0;
let stack: TestStack;

beforeAll(async () => {
  jwksServer = http.createServer((req, res) => {
    if (req.url !== '/certs') return void res.writeHead(404).end();
    jwksRequests++;
    const jwk = { ...google.publicKey.export({ format: 'jwk' }), kid: google.kid, alg: 'RS256', use: 'sig' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as AddressInfo;
  stack = await openTestStack({ GOOGLE_CLIENT_ID: CLIENT_ID, GOOGLE_JWKS_URL: `http://127.0.0.1:${port}/certs`, GOOGLE_ISSUER: ISSUER });
});

afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

interface TokenOptions {
  sub?: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  audience?: string;
  issuer?: string;
  expiresInSec?: number;
  key?: KeyObject;
  kid?: string;
}

function idToken(opts: TokenOptions = {}): string {
  const claims = {
    sub: opts.sub ?? uniqueName('sub'),
    email: opts.email,
    email_verified: opts.emailVerified ?? true,
    name: opts.name,
    iat: Math.floor(Date.now() / 1000) - 60,
    exp: Math.floor(Date.now() / 1000) + (opts.expiresInSec ?? 3600),
  };
  return jwt.sign(claims, opts.key ?? google.privateKey, {
    algorithm: 'RS256',
    keyid: opts.kid ?? google.kid,
    audience: opts.audience ?? CLIENT_ID,
    issuer: opts.issuer ?? ISSUER,
  });
}

const signIn = (body: Record<string, string>) => stack.http().post('/api/auth/social').send(body);
const uniqueEmail = (prefix: string) => `${uniqueName(prefix)}@gmail.test`;

describe('sign in with Google', () => {
  it('creates an account of its own for a new Google user and starts a session', async () => {
    const email = uniqueEmail('gina');
    const sub = uniqueName('sub');
    const agent = request.agent(stack.app.callback());
    const res = await agent.post('/api/auth/social').send({ provider: 'google', idToken: idToken({ sub, email, name: 'Gina Google' }) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: expect.any(String), username: email.split('@')[0], displayName: 'Gina Google', email, role: 'owner' } });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^wdf_token=[^;]+;/);
    expect(cookie.toLowerCase()).toContain('httponly');

    const me = await agent.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: res.body.user.id, emailVerified: true });
    const user = await stack.orm.em.fork().findOneOrFail(User, { id: res.body.user.id });
    expect(user).toMatchObject({ googleSub: sub, passwordHash: null, role: 'owner' });
  });

  it('makes the username unique when the e-mail local part is taken', async () => {
    const local = uniqueName('taken');
    await createAccount(stack.orm.em.fork(), { username: local, password: 'password123' });
    const res = await signIn({ idToken: idToken({ email: `${local}@gmail.test` }) });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toMatch(new RegExp(`^${local}-[0-9a-f]{4}$`));
  });

  it('links the existing account with the same e-mail when Google has verified it', async () => {
    const email = uniqueEmail('lena');
    const existing = await createAccount(stack.orm.em.fork(), { username: uniqueName('lena'), password: 'password123', email });
    const sub = uniqueName('sub');
    const res = await signIn({ provider: 'google', idToken: idToken({ sub, email: email.toUpperCase() }) });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: existing.id, username: existing.username, email });
    const linked = await stack.orm.em.fork().findOneOrFail(User, { id: existing.id });
    expect(linked.googleSub).toBe(sub);
    expect(linked.emailVerifiedAt).toBeInstanceOf(Date);
    expect(await stack.orm.em.fork().count(User, { email })).toBe(1);
  });

  it('does not link an account by an e-mail Google has not verified', async () => {
    const email = uniqueEmail('ursula');
    const existing = await createAccount(stack.orm.em.fork(), { username: uniqueName('ursula'), password: 'password123', email });
    const res = await signIn({ idToken: idToken({ email, emailVerified: false }) });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/not verified/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await stack.orm.em.fork().findOneOrFail(User, { id: existing.id })).googleSub).toBeNull();
  });

  it('keeps an e-mail Google has not verified off a new account', async () => {
    const email = uniqueEmail('nora');
    const res = await signIn({ idToken: idToken({ email, emailVerified: false }) });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: email.split('@')[0], email: null });
  });

  it('finds the same user on the next sign-in by the Google subject, and accepts "credential"', async () => {
    const sub = uniqueName('sub');
    const first = await signIn({ provider: 'google', idToken: idToken({ sub, email: uniqueEmail('sam') }) });
    expect(first.status).toBe(200);
    const again = await signIn({ credential: idToken({ sub, email: uniqueEmail('sam-renamed') }) });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect(await stack.orm.em.fork().count(User, { googleSub: sub })).toBe(1);
  });

  it('refuses a disabled account with 403', async () => {
    const sub = uniqueName('sub');
    const first = await signIn({ idToken: idToken({ sub, email: uniqueEmail('dora') }) });
    const em = stack.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: first.body.user.id });
    user.disabled = true;
    await em.flush();
    const res = await signIn({ idToken: idToken({ sub }) });
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers 401 for a token issued to another client or by another issuer', async () => {
    const wrongAudience = await signIn({ idToken: idToken({ email: uniqueEmail('eve'), audience: 'someone-else' }) });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body.error).toMatch(/audience/);
    const wrongIssuer = await signIn({ idToken: idToken({ email: uniqueEmail('eve'), issuer: 'https://evil.example' }) });
    expect(wrongIssuer.status).toBe(401);
    expect(wrongIssuer.body.error).toMatch(/issuer/);
  });

  it('answers 401 for an expired token', async () => {
    const res = await signIn({ idToken: idToken({ email: uniqueEmail('old'), expiresInSec: -60 }) });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/expired/);
  });

  it('answers 401 for a token signed by a key that is not Google’s', async () => {
    const stranger = newRsaKey();
    const unknownKid = await signIn({ idToken: idToken({ email: uniqueEmail('mallory'), key: stranger.privateKey, kid: 'not-a-google-key' }) });
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.body.error).toMatch(/unknown key/);
    const forgedKid = await signIn({ idToken: idToken({ email: uniqueEmail('mallory'), key: stranger.privateKey }) });
    expect(forgedKid.status).toBe(401);
    expect(forgedKid.body.error).toMatch(/signature/);
    expect((await signIn({ idToken: 'not-a-jwt' })).status).toBe(401);
  });

  it('fetches Google’s key set once and reuses it', async () => {
    expect((await signIn({ idToken: idToken({ email: uniqueEmail('kim') }) })).status).toBe(200);
    const fetched = jwksRequests;
    expect(fetched).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect((await signIn({ idToken: idToken({ email: uniqueEmail('kim') }) })).status).toBe(200);
    expect(jwksRequests).toBe(fetched);
  });

  it('answers 400 naming the field when no token is sent', async () => {
    const res = await signIn({ provider: 'google' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/idToken: is required/);
  });

  it('answers 503 when Google’s keys cannot be fetched', async () => {
    const keyServerDown = await openTestStack({ GOOGLE_CLIENT_ID: CLIENT_ID, GOOGLE_JWKS_URL: `http://127.0.0.1:${await freePort()}/certs` });
    try {
      const res = await keyServerDown.http().post('/api/auth/social').send({ idToken: idToken({ email: uniqueEmail('ida') }) });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/Could not fetch Google's signing keys/);
    } finally {
      await keyServerDown.close();
    }
  });

  it('answers 400 when Google sign-in is not configured', async () => {
    const unconfigured = await openTestStack();
    try {
      const res = await unconfigured.http().post('/api/auth/social').send({ provider: 'google', idToken: idToken({ email: uniqueEmail('nina') }) });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'Google sign-in is not configured on this server' });
    } finally {
      await unconfigured.close();
    }
  });
});
