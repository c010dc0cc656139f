import { createSecretKey } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context, Middleware } from 'koa';
import koaJwt from 'koa-jwt';
import { User, type Role } from '../../core/db/entities';
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

/**
 * Verifies the JWT (koa-jwt) when one is present; routes decide whether one is required. The secret goes in
 * as a key object, else jsonwebtoken first tries (and fails) to parse it as a public key on every request;
 * a request without a token skips koa-jwt, which would only build a "jwt must be provided" error for it.
 */
export function verifyJwt(secret: string): Middleware {
  const verify = koaJwt({
    secret: createSecretKey(Buffer.from(secret)) as unknown as string,
    passthrough: true,
    key: 'jwt',
    algorithms: ['HS256'],
    issuer: 'flowbot',
    getToken: tokenFrom,
  }) as unknown as Middleware;
  return (ctx, next) => (tokenFrom(ctx) ? verify(ctx, next) : next());
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
  // Every authenticated request runs this: one raw statement for the user and its API credential costs the
  // API a fraction of two ORM look-ups, and the user is still mapped into `em` (routes change and flush it).
  const rows = await em.getConnection().execute<Array<Record<string, unknown> & { credential_client_id: string | null; credential_rotated_at: Date | null }>>(
    `select u.*, c.client_id as credential_client_id, c.rotated_at as credential_rotated_at
     from users u left join api_credentials c on c.user_id = u.id where u.id = ?`,
    [claims.sub],
  );
  const { credential_client_id: clientId, credential_rotated_at: rotatedAt, ...userRow } = rows[0] ?? {};
  const user = rows[0] ? em.map(User, userRow) : null;
  if (!user || user.disabled) throw new AppError('unauthenticated', 'Account not found or disabled');
  if (claims.kind === 'api') {
    if (!user.apiAccessApproved) throw new AppError('forbidden', 'API access is not approved for this account');
    if (!clientId || !rotatedAt || clientId !== claims.cid || new Date(rotatedAt).getTime() !== claims.rot) {
      throw new AppError('unauthenticated', 'API token is no longer valid: the API key was rotated');
    }
  }
  const principal: Principal = { userId: user.id, tenantId: user.tenantId, role: user.role, kind: claims.kind, user };
  ctx.state.principal = principal;
  return principal;
}
