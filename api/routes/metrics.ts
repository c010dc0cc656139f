import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route } from '../route';

/** Prometheus scrape endpoint. Open by default (scrape it from inside your network); METRICS_TOKEN closes it. */
export function metricsRoutes(deps: ApiDeps, registry: Registry) {
  const token = deps.config.metricsToken;
  return [
    route({
      method: 'get',
      path: '/metrics',
      tag: 'System',
      summary: 'Prometheus metrics of this API process',
      description: 'Request rate, latency and errors by route; webhook inbox depth and age. With METRICS_TOKEN set, send it as a Bearer token.',
      auth: 'public',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' }, 401: { description: 'METRICS_TOKEN is set and was not given' } },
      async handler(ctx) {
        if (token) {
          const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? '');
          const expected = Buffer.from(token);
          if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AppError('unauthenticated', 'Metrics need the METRICS_TOKEN as a Bearer token');
        }
        ctx.type = registry.contentType;
        return registry.metrics();
      },
    }),
  ];
}
