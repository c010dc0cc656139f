import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import Koa from 'koa';
import getRawBody from 'raw-body';

/**
 * The ingest baseline: a bare Koa server that reads the raw body, checks X-Hub-Signature-256 and answers 200.
 * No database, no logging: the least any webhook receiver must do. Runs as its own process, like our API,
 * so the load generator's CPU counts against neither.
 *
 * `node dist/bench/bare-ingest-server.js <port> <appSecret>`
 */
export function bareIngestApp(appSecret: string): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST') {
      ctx.status = 404;
      return;
    }
    const raw = await getRawBody(ctx.req, { limit: 1024 * 1024 });
    const given = /^sha256=([0-9a-f]{64})$/i.exec(ctx.get('x-hub-signature-256'));
    const expected = createHmac('sha256', appSecret).update(raw).digest();
    if (!given || !timingSafeEqual(Buffer.from(given[1], 'hex'), expected)) {
      ctx.status = 401;
      return;
    }
    ctx.body = { success: true };
  });
  return app;
}

if (require.main === module) {
  const [port, appSecret] = process.argv.slice(2);
  const server = http.createServer(bareIngestApp(appSecret).callback());
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('bare ingest server listening\n'));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
