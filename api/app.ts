import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/postgresql';
import Koa, { type Context, type Middleware } from 'koa';
import compose from 'koa-compose';
import { AppError } from '../core/errors';
import type { ApiDeps } from './deps';
import { apiRequestLog } from './middleware/api-log';
import { resolvePrincipal, verifyJwt, type Principal } from './middleware/auth';
import { jsonBody } from './middleware/body';
import { errorHandler } from './middleware/errors';
import { requestMetrics } from './middleware/metrics';
import { requestContext } from './middleware/request-context';
import { createRegistry, httpMetrics, inboxMetrics } from '../core/metrics/registry';
import { metricsRoutes } from './routes/metrics';
import { buildOpenApi } from './openapi';
import { parseInput, type AnyRouteSpec } from './route';
import { allRoutes } from './routes';
import { serveWeb } from './static';
import { docsRoutes } from './routes/docs';

export interface BuiltApp {
  app: Koa;
  routes: AnyRouteSpec[];
  openApi: Record<string, unknown>;
}

/** Builds the Koa app without listening, so tests drive it in-process against real services. */
export function buildApp(deps: ApiDeps): BuiltApp {
  const app = new Koa({ proxy: deps.config.trustProxy });
  const registry = createRegistry('api');
  inboxMetrics(registry, () => deps.orm.em.fork());
  const routes = [...allRoutes(deps), ...metricsRoutes(deps, registry)];
  const openApi = buildOpenApi(routes, { version: '0.1.0', serverUrl: deps.config.publicUrl });
  const router = new Router();
  for (const spec of routes) mount(router, spec, deps);
  for (const spec of docsRoutes(openApi)) mount(router, spec, deps);

  app.use(requestContext(deps.logger));
  app.use(requestMetrics(httpMetrics(registry)));
  app.use(apiRequestLog(deps.orm, deps.logger));
  app.use(errorHandler());
  app.use(jsonBody({ limitBytes: deps.config.bodyLimitBytes }));
  app.use(verifyJwt(deps.config.jwtSecret));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(serveWeb());
  return { app, routes, openApi };
}

/** A JWT when there is a valid one; otherwise the route's fallback credential, if it has one. */
async function authenticate(ctx: Context, em: EntityManager, spec: AnyRouteSpec): Promise<Principal | undefined> {
  if (!spec.fallbackAuth || ctx.state.jwt) return resolvePrincipal(ctx, em);
  const fallback = await spec.fallbackAuth(ctx);
  if (fallback) ctx.state.principal = fallback;
  return fallback ?? resolvePrincipal(ctx, em);
}

function mount(router: Router, spec: AnyRouteSpec, deps: ApiDeps): void {
  const before: Middleware = spec.before?.length ? (compose(spec.before as Middleware[]) as Middleware) : (_ctx, next) => next();
  router[spec.method](spec.path, async (ctx) => {
    const em = deps.orm.em.fork();
    ctx.state.em = em;
    const principal = spec.auth === 'public' ? undefined : await authenticate(ctx, em, spec);
    if (spec.auth !== 'public') {
      if (!principal) throw new AppError('unauthenticated', 'Authentication required: log in or send an API Bearer token');
      if (spec.auth === 'session' && principal.kind !== 'session') {
        throw new AppError('forbidden', 'This endpoint needs a signed-in session; API tokens cannot use it');
      }
      if (spec.roles && !spec.roles.includes(principal.role)) {
        throw new AppError('forbidden', `This endpoint needs one of the roles: ${spec.roles.join(', ')}`);
      }
    }
    await before(ctx, async () => {
      if (/%00/i.test(ctx.querystring) || ctx.path.includes('\u0000')) {
        throw new AppError('invalid', 'The URL contains a NUL character (%00), which cannot be stored');
      }
      const input = {
        params: parseInput(spec.params, ctx.params, 'path parameters'),
        query: parseInput(spec.query, ctx.query, 'query'),
        body: spec.body ? parseInput(spec.body, ctx.request.body, 'body') : undefined,
        principal,
      };
      const result = await spec.handler(ctx, input);
      if (result !== undefined && ctx.body === undefined) ctx.body = result;
    });
  });
}
