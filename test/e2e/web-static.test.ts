import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { serveWeb } from '../../api/static';

/** How the API serves the dashboard's build: files, the app's own routes, caching, and a missing build. */

function appServing(root: string): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path === '/api/health') ctx.body = { ok: true };
    else await next();
  });
  app.use(serveWeb({ root }));
  return app;
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-web-'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>FlowBot</title><div id="root"></div>');
  fs.writeFileSync(path.join(root, 'assets', 'index-AB12CD34.js'), 'console.log("app")');
  fs.writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(path.join(os.tmpdir(), 'flowbot-secret.txt'), 'outside');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('serving the dashboard at /', () => {
  it('answers / and any app route with index.html, never cached, with a strict content security policy', async () => {
    for (const p of ['/', '/flows', '/inbox/3f1e2d7a-0000-4000-8000-000000000000', '/settings']) {
      const res = await request(appServing(root).callback()).get(p);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toContain('<div id="root">');
    }
  });

  it('caches hashed assets for a year and other files not at all', async () => {
    const asset = await request(appServing(root).callback()).get('/assets/index-AB12CD34.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await request(appServing(root).callback()).get('/favicon.svg');
    expect(icon.headers['cache-control']).toBe('no-cache');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
  });

  it('leaves /api and /docs to the API, and a missing file with an extension is a 404, not the app', async () => {
    const app = appServing(root).callback();
    expect((await request(app).get('/api/health')).body).toEqual({ ok: true });
    expect((await request(app).get('/api/nope')).status).toBe(404);
    expect((await request(app).get('/docs')).status).toBe(404);
    expect((await request(app).get('/assets/index-OLD.js')).status).toBe(404);
    expect((await request(app).post('/flows')).status).toBe(404);
  });

  it('never serves a file outside the build folder', async () => {
    const app = appServing(root).callback();
    for (const p of ['/../flowbot-secret.txt', '/%2e%2e/flowbot-secret.txt', '/assets/..%2f..%2fflowbot-secret.txt']) {
      const res = await request(app).get(p);
      expect(res.text).not.toContain('outside');
    }
  });

  it('says in plain text how to build the dashboard when it has not been built', async () => {
    const res = await request(appServing(path.join(root, 'missing')).callback()).get('/inbox');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toContain('npm run build:web');
    expect((await request(appServing(path.join(root, 'missing')).callback()).get('/api/health')).status).toBe(200);
  });
});
