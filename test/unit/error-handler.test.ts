import Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { AppError } from '../../core/errors';
import { errorHandler } from '../../api/middleware/errors';
import { requestContext } from '../../api/middleware/request-context';

function appThrowing(err: unknown, logs: unknown[]) {
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const app = new Koa();
  app.use(requestContext(logger));
  app.use(errorHandler());
  app.use(() => {
    throw err;
  });
  return app.callback();
}

describe('error handler', () => {
  it('turns an unexpected failure into a generic 500 carrying the request id, and logs the details', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const res = await request(appThrowing(new Error('secret internals: password=hunter2'), logs)).get('/x').set('X-Request-Id', 'req-42');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'Internal server error (request id req-42)' });
    const logged = logs.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId: 'req-42', err: { message: 'secret internals: password=hunter2' } });
  });

  it('maps each error kind to its status and sets Retry-After for rate limits', async () => {
    const cases: Array<[AppError, number]> = [
      [new AppError('invalid', 'bad'), 400],
      [new AppError('unauthenticated', 'who'), 401],
      [new AppError('forbidden', 'no'), 403],
      [new AppError('not_found', 'gone'), 404],
      [new AppError('conflict', 'dup'), 409],
      [new AppError('unavailable', 'down'), 503],
    ];
    for (const [err, status] of cases) {
      const res = await request(appThrowing(err, [])).get('/x');
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error: err.message });
    }
    const limited = await request(appThrowing(new AppError('rate_limited', 'slow down', { retryAfterSec: 42 }), [])).get('/x');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('42');
  });
});
