import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { verifyGoogleIdToken, type GoogleIdentity } from '../../core/auth/google-id-token';
import { createAccount, publicUser } from '../../core/auth/users';
import { User } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';
import { userEnvelope } from '../schemas';
import { startSession } from '../session';

const socialBody = z
  .object({
    provider: z.literal('google').default('google'),
    idToken: z.string().min(1).max(8192).optional().describe('The Google ID token (JWT)'),
    credential: z.string().min(1).max(8192).optional().describe('Alias of idToken: the field Google Identity Services hands the browser'),
  })
  .transform((body, ctx) => {
    const idToken = body.idToken ?? body.credential;
    if (!idToken) {
      ctx.addIssue({ code: 'custom', path: ['idToken'], message: 'is required (or send it as "credential")' });
      return z.NEVER;
    }
    return { provider: body.provider, idToken };
  });

/** A free username from the e-mail's local part: `jane.doe`, else `jane.doe-3f9a`. */
async function freeUsername(em: EntityManager, identity: GoogleIdentity): Promise<string> {
  const local = (identity.email?.split('@')[0] ?? '').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 40);
  const base = local.length >= 3 ? local : `google${local}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = attempt === 0 ? base : `${base}-${randomBytes(2).toString('hex')}`;
    if (!(await em.count(User, { username: candidate }))) return candidate;
  }
  return `${base}-${randomBytes(6).toString('hex')}`;
}

/**
 * The account a Google identity signs in to: the one already linked to it; else the account with the same
 * e-mail, linked now, but only when Google vouches for the e-mail (otherwise anyone could claim any address);
 * else a new account of its own. A new link is left for the caller to flush, once it has checked the account.
 */
async function accountFor(em: EntityManager, identity: GoogleIdentity): Promise<User> {
  const linked = await em.findOne(User, { googleSub: identity.sub });
  if (linked) return linked;
  const sameEmail = identity.email ? await em.findOne(User, { email: identity.email }) : null;
  if (sameEmail) {
    if (!identity.emailVerified) {
      throw new AppError('conflict', 'An account with this e-mail exists, and Google has not verified the e-mail: sign in with your password');
    }
    if (sameEmail.googleSub) throw new AppError('conflict', 'The account with this e-mail is linked to a different Google account');
    sameEmail.googleSub = identity.sub;
    sameEmail.emailVerifiedAt ??= new Date();
    return sameEmail;
  }
  // An address Google has not verified is not stored: it would hold the address against its real owner.
  return createAccount(em, {
    username: await freeUsername(em, identity),
    displayName: identity.name,
    email: identity.emailVerified ? identity.email : undefined,
    googleSub: identity.sub,
    emailVerified: identity.emailVerified,
  });
}

export function socialRoutes(deps: ApiDeps): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/auth/social',
      tag: 'Auth & Identity',
      summary: 'Sign in with Google',
      description:
        'Verifies a Google ID token (from Google Identity Services) and sets the `wdf_token` session cookie, like login. ' +
        'Signs in to the account linked to the Google account, else links the account with the same e-mail when Google ' +
        'has verified it, else creates a new account. Body: `{provider: "google", idToken}`; `credential` is accepted for `idToken`.',
      auth: 'public',
      body: socialBody,
      responses: {
        200: { description: 'Signed in', schema: userEnvelope },
        400: { description: 'Invalid body, or Google sign-in is not configured on this server (GOOGLE_CLIENT_ID)' },
        401: { description: 'Invalid, expired or foreign ID token' },
        403: { description: 'Account disabled' },
        409: { description: 'The e-mail belongs to an account that cannot be linked' },
        503: { description: "Google's signing keys could not be fetched" },
      },
      async handler(ctx, { body }) {
        const { clientId, jwksUrl, issuer } = deps.config.google;
        if (!clientId) throw new AppError('invalid', 'Google sign-in is not configured on this server');
        const identity = await verifyGoogleIdToken(body.idToken, { clientId, jwksUrl, issuer });
        const user = await accountFor(ctx.state.em, identity);
        if (user.disabled) throw new AppError('forbidden', 'This account is disabled');
        await ctx.state.em.flush();
        startSession(ctx, deps, user);
        ctx.state.log.info({ userId: user.id, tenantId: user.tenantId }, 'signed in with Google');
        return { user: publicUser(user) };
      },
    }),
  ];
}
