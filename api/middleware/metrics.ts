import type { Middleware } from 'koa';
import type { httpMetrics } from '../../core/metrics/registry';

/**
 * Counts and times every request by its route template (`/api/flows/:id`), never by its raw path, so the
 * number of series stays bounded whatever ids callers send.
 */
export function requestMetrics(metrics: ReturnType<typeof httpMetrics>): Middleware {
  return async (ctx, next) => {
    const stop = metrics.duration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? (ctx.path.startsWith('/api/') ? 'unmatched' : 'static');
      stop({ method: ctx.method, route });
      metrics.requests.inc({ method: ctx.method, route, status: String(ctx.status) });
    }
  };
}
