import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../core/errors';
import type { Role } from '../core/db/entities';
import type { Principal } from './middleware/auth';

/**
 * Who may call a route:
 * - `public`: anyone;
 * - `session`: a browser session (the `wdf_token` cookie) only — account settings an API key must not touch;
 * - `user`: a session or an API JWT (Bearer) of an approved integrator, scoped to its tenant.
 */
export type RouteAuth = 'public' | 'session' | 'user';

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  /** Koa path syntax (`/api/users/:id`); the OpenAPI document gets `{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  roles?: readonly Role[];
  body?: B;
  /** How the body is sent, for the OpenAPI document (default application/json); a `before` middleware parses other types. */
  bodyContentType?: 'application/json' | 'multipart/form-data' | 'application/x-www-form-urlencoded';
  query?: Q;
  params?: P;
  responses: Record<number, RouteResponse>;
  /**
   * For routes that also accept an older, per-resource credential: tried when the request carries no valid
   * JWT. Returns the principal it stands for, or undefined to refuse.
   */
  fallbackAuth?: (ctx: Context) => Promise<Principal | undefined>;
  /** Extra middleware run after authentication and before validation (rate limits). */
  before?: Middleware[];
  handler: (
    ctx: Context,
    input: { body: z.infer<B>; query: z.infer<Q>; params: z.infer<P>; principal: Principal | undefined },
  ) => Promise<unknown> | unknown;
}

export type AnyRouteSpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

export const idParams = z.object({ id: z.string().uuid({ message: 'must be a UUID' }) });

/** Typed identity helper: keeps inference of body/query/params in each route file. */
export function route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
  spec: RouteSpec<B, Q, P>,
): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

export function parseInput<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw new AppError('invalid', describeIssues(result.error, where));
  return result.data;
}

/** "email: must be a valid e-mail address; password: too short" — names the field, as integrators need. */
export function describeIssues(error: z.ZodError, where: string): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : where;
    return `${field}: ${issue.message}`;
  });
  return `Invalid ${where}: ${parts.join('; ')}`;
}
