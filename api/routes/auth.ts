import { z } from 'zod';
import { apiKeyMatches } from '../../core/auth/api-credentials';
import { dummyPasswordHash, verifyPassword } from '../../core/auth/passwords';
import { signToken } from '../../core/auth/tokens';
import { createAccount, publicUser } from '../../core/auth/users';
import { ApiCredential, User, themes } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { clientIp, rateLimit } from '../middleware/rate-limit';
import { route } from '../route';
import { email, password, phone, publicUserSchema, userEnvelope, username } from '../schemas';
import { endSession, startSession } from '../session';

const loginBody = z.object({ username: z.string().min(1, 'is required').max(254), password: z.string().min(1, 'is required').max(256) });
const registerBody = z.object({
  username,
  password,
  email: email.optional(),
  displayName: z.string().trim().min(1).max(120).optional(),
  phone: phone.optional(),
  companyName: z.string().trim().min(1).max(120).optional(),
});
const apiTokenBody = z.object({
  clientId: z.string().min(1, 'is required').max(100),
  apiKey: z.string().min(1, 'is required').max(200),
  ttlSec: z.number().int().min(60, 'must be at least 60 seconds').max(86400, 'must be at most 86400 seconds (24 h)').default(3600),
});
const apiTokenResponse = z.object({
  success: z.literal(true),
  tokenType: z.literal('Bearer'),
  accessToken: z.string(),
  expiresInSec: z.number().int(),
  clientNumber: z.string(),
  clientId: z.string(),
});
const meResponse = z.object({
  user: publicUserSchema.extend({
    tenantId: z.string().uuid(),
    language: z.string(),
    theme: z.enum(themes),
    phone: z.string().nullable(),
    emailVerified: z.boolean(),
    apiAccessApproved: z.boolean(),
  }),
  auth: z.enum(['session', 'api']),
});

export function authRoutes(deps: ApiDeps) {
  const { max, windowSec } = deps.config.authRateLimit;
  const perIp = (name: string) => rateLimit({ orm: deps.orm, name, max, windowSec, keyOf: clientIp });

  return [
    route({
      method: 'post',
      path: '/api/auth/login',
      tag: 'Auth & Identity',
      summary: 'Login and set the session cookie',
      description: 'Sets the HTTP-only `wdf_token` cookie (JWT). Rate limit: 10 requests / 15 min per IP.',
      auth: 'public',
      before: [perIp('login')],
      body: loginBody,
      responses: { 200: { description: 'Signed in', schema: userEnvelope }, 401: { description: 'Wrong username or password' }, 429: { description: 'Too many attempts' } },
      async handler(ctx, { body }) {
        const em = ctx.state.em;
        const user = await em.findOne(User, { $or: [{ username: body.username }, { email: body.username.toLowerCase() }] });
        const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), body.password);
        if (!user || !user.passwordHash || !ok) throw new AppError('unauthenticated', 'Invalid username or password');
        if (user.disabled) throw new AppError('forbidden', 'This account is disabled');
        startSession(ctx, deps, user);
        return { user: publicUser(user) };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/register',
      tag: 'Auth & Identity',
      summary: 'Register an account',
      description: 'Creates a customer account (a tenant of its own, owned by the new user) and signs in.',
      auth: 'public',
      body: registerBody,
      responses: { 201: { description: 'Registered and signed in', schema: userEnvelope }, 409: { description: 'Username or e-mail taken' } },
      async handler(ctx, { body }) {
        const user = await createAccount(ctx.state.em, {
          username: body.username,
          password: body.password,
          email: body.email,
          phone: body.phone,
          displayName: body.displayName,
          tenantName: body.companyName,
        });
        startSession(ctx, deps, user);
        ctx.status = 201;
        return { user: publicUser(user) };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/logout',
      tag: 'Auth & Identity',
      summary: 'Logout and clear the cookie',
      auth: 'session',
      responses: { 200: { description: 'Signed out', schema: z.object({ success: z.literal(true) }) } },
      handler(ctx) {
        endSession(ctx, deps);
        return { success: true };
      },
    }),
    route({
      method: 'get',
      path: '/api/auth/me',
      tag: 'Auth & Identity',
      summary: 'Current user and session',
      auth: 'user',
      responses: { 200: { description: 'The signed-in user', schema: meResponse } },
      handler(_ctx, { principal }) {
        const user = principal!.user;
        return {
          user: {
            ...publicUser(user),
            tenantId: user.tenantId,
            language: user.language,
            theme: user.theme,
            phone: user.phone ?? null,
            emailVerified: Boolean(user.emailVerifiedAt),
            apiAccessApproved: user.apiAccessApproved,
          },
          auth: principal!.kind,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/language',
      tag: 'Auth & Identity',
      summary: 'Save the UI language',
      auth: 'session',
      body: z.object({ language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, 'must be a language tag such as "en" or "he"') }),
      responses: { 200: { description: 'Saved', schema: z.object({ success: z.literal(true), language: z.string() }) } },
      async handler(ctx, { body, principal }) {
        principal!.user.language = body.language;
        await ctx.state.em.flush();
        return { success: true, language: body.language };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/theme',
      tag: 'Auth & Identity',
      summary: 'Save the UI theme',
      auth: 'session',
      body: z.object({ theme: z.enum(themes) }),
      responses: { 200: { description: 'Saved', schema: z.object({ success: z.literal(true), theme: z.enum(themes) }) } },
      async handler(ctx, { body, principal }) {
        principal!.user.theme = body.theme;
        await ctx.state.em.flush();
        return { success: true, theme: body.theme };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/api-token',
      tag: 'Auth & Identity',
      summary: 'Exchange client credentials for an API JWT',
      description:
        'Server-to-server authentication. API use is blocked until an admin approves it in user management. ' +
        '`ttlSec` defaults to 3600 and is at most 86400. Rate limit: 10 requests / 15 min per IP.',
      auth: 'public',
      before: [perIp('api-token')],
      body: apiTokenBody,
      responses: {
        200: { description: 'A Bearer token', schema: apiTokenResponse },
        401: { description: 'Unknown client id or wrong key' },
        403: { description: 'API use not approved, or account disabled' },
        429: { description: 'Too many attempts' },
      },
      async handler(ctx, { body }) {
        const em = ctx.state.em;
        const credential = await em.findOne(ApiCredential, { clientId: body.clientId });
        if (!credential || !apiKeyMatches(credential, body.apiKey)) throw new AppError('unauthenticated', 'Invalid client id or API key');
        const user = await em.findOne(User, { id: credential.userId });
        if (!user || user.disabled) throw new AppError('forbidden', 'This account is disabled');
        if (!user.apiAccessApproved) {
          throw new AppError('forbidden', 'API access is not approved for this account yet; ask an administrator to approve it in User Management');
        }
        const accessToken = signToken(
          deps.config.jwtSecret,
          { sub: user.id, tid: user.tenantId, role: user.role, kind: 'api', cid: credential.clientId, rot: credential.rotatedAt.getTime() },
          body.ttlSec,
        );
        return { success: true, tokenType: 'Bearer', accessToken, expiresInSec: body.ttlSec, clientNumber: user.id, clientId: credential.clientId };
      },
    }),
  ];
}
