import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { rotateApiKey } from '../../core/auth/api-credentials';
import { createAccount, createUserInTenant } from '../../core/auth/users';
import { User, type Role } from '../../core/db/entities';
import type { TestStack } from './stack';

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A distinct client address per caller, so the per-IP rate limits of one test never affect another. */
export const uniqueIp = (): string => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0] % 250)}`;

export interface TestAccount {
  user: User;
  password: string;
  /** An agent carrying this account's session cookie. */
  agent: ReturnType<typeof request.agent>;
}

/** A new customer account (its own tenant, as owner unless another role is asked for), signed in. */
export async function signedInAccount(stack: TestStack, opts: { role?: Role; tenantId?: string } = {}): Promise<TestAccount> {
  const em = stack.orm.em.fork();
  const password = 'correct horse battery';
  const username = uniqueName('user');
  const user = opts.tenantId
    ? await createUserInTenant(em, opts.tenantId, { username, password, role: opts.role ?? 'user', email: `${username}@example.test` })
    : await createAccount(em, { username, password, role: opts.role ?? 'owner', email: `${username}@example.test` });
  const agent = request.agent(stack.app.callback());
  const res = await agent.post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username, password });
  if (res.status !== 200) throw new Error(`login failed in test setup: ${res.status} ${JSON.stringify(res.body)}`);
  return { user, password, agent };
}

/** Approves API use for an account and issues its key, as an admin and the customer would. */
export async function apiCredentialsFor(stack: TestStack, user: User, approved = true) {
  const em = stack.orm.em.fork();
  const fresh = await em.findOneOrFail(User, { id: user.id });
  fresh.apiAccessApproved = approved;
  await em.flush();
  return rotateApiKey(em, fresh);
}

/** An API Bearer token for an account, by the integrator's path: approval, key, POST /api/auth/api-token. */
export async function apiTokenFor(stack: TestStack, user: User): Promise<string> {
  const { clientId, apiKey } = await apiCredentialsFor(stack, user);
  const res = await request(stack.app.callback()).post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId, apiKey });
  if (res.status !== 200) throw new Error(`api-token failed in test setup: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}
