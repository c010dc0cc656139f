import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context, Middleware } from 'koa';
import koaJwt from 'koa-jwt';
import { ApiCredential, User, type Role } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import { SESSION_COOKIE, type TokenClaims } from '../../core/auth/tokens';

export interface Principal {
  userId: string;
  tenantId: string;
  role: Role;
  /** `flow_token`: a flow's legacy outbound token, good for triggering that flow only. */
  kind: 'session' | 'api' | 'flow_token';
  user: User;
}

/** A Bearer header wins over the cookie, so an integrator's token is used even from a logged-in browser. */
function tokenFrom(ctx: Context): string | null {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match) return match[1];
  return ctx.cookies.get(SESSION_COOKIE) ?? null;
}

/** Verifies the JWT (koa-jwt) when one is present; routes decide whether one is required. */
export function verifyJwt(secret: string): Middleware {
  return koaJwt({
    secret,
    passthrough: true,
    key: 'jwt',
    algorithms: ['HS256'],
    issuer: 'flowbot',
    getToken: tokenFrom,
  }) as unknown as Middleware;
}

/**
 * Turns verified claims into a principal, checking the database each time so that disabling a user, revoking
 * API approval or rotating the key takes effect at once rather than when the token expires.
 */
export async function resolvePrincipal(ctx: Context, em: EntityManager): Promise<Principal | undefined> {
  if (ctx.state.principal !== undefined) return ctx.state.principal ?? undefined;
  const claims = ctx.state.jwt as TokenClaims | undefined;
  if (!claims) {
    ctx.state.principal = null;
    if (ctx.state.jwtOriginalError && tokenFrom(ctx)) {
      const expired = (ctx.state.jwtOriginalError as Error).name === 'TokenExpiredError';
      throw new AppError('unauthenticated', expired ? 'Token expired; sign in again' : 'Invalid token');
    }
    return undefined;
  }
  const user = await em.findOne(User, { id: claims.sub });
  if (!user || user.disabled) throw new AppError('unauthenticated', 'Account not found or disabled');
  if (claims.kind === 'api') {
    if (!user.apiAccessApproved) throw new AppError('forbidden', 'API access is not approved for this account');
    const credential = await em.findOne(ApiCredential, { userId: user.id });
    if (!credential || credential.clientId !== claims.cid || credential.rotatedAt.getTime() !== claims.rot) {
      throw new AppError('unauthenticated', 'API token is no longer valid: the API key was rotated');
    }
  }
  const principal: Principal = { userId: user.id, tenantId: user.tenantId, role: user.role, kind: claims.kind, user };
  ctx.state.principal = principal;
  return principal;
}
