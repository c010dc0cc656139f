import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';

/**
 * Serves the dashboard (the Vite build in web/dist) at `/`, beside the API on the same address, so the browser
 * talks to the API with its session cookie and no CORS. Files under /assets/ carry a content hash in their
 * name and are cached for a year; any other path that is not a file gets index.html, so the app's own routes
 * (/flows/…, /inbox/…) load on reload. /api/* and /docs never reach it: they are the API's.
 */

/** web/dist beside the sources: from api/ when run as TypeScript (tests), from dist/api/ when compiled. */
export const defaultWebDist = path.resolve(__dirname, __filename.endsWith('.ts') ? '..' : path.join('..', '..'), 'web', 'dist');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Scripts and styles from this origin only; xyflow positions nodes with inline styles; chat media may be remote images. */
const dashboardCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const notBuilt = (dir: string) =>
  'The FlowBot dashboard has not been built yet.\n\n' +
  `Its files are expected in ${dir}. Build them with \`npm run build:web\` (\`npm start\` does this for you), then reload this page.\n` +
  'The API itself is running: see /docs and /api/health.\n';

const isApiPath = (p: string): boolean => p === '/api' || p.startsWith('/api/') || p === '/docs' || p.startsWith('/docs/');

export function serveWeb(opts: { root?: string } = {}): Middleware {
  const root = opts.root ?? defaultWebDist;
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isApiPath(ctx.path)) return next();
    if (ctx.body !== undefined || (ctx.status !== 404 && ctx.status !== undefined)) return next();

    const index = path.join(root, 'index.html');
    if (!fs.existsSync(index)) {
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = notBuilt(root);
      return;
    }

    const file = fileFor(root, ctx.path);
    if (file) {
      const hashed = ctx.path.startsWith('/assets/');
      await send(ctx, file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      return;
    }
    // A missing file with an extension (a stale /assets/x.js) is a plain 404; any other path is an app route.
    if (path.extname(ctx.path) !== '') return next();
    await send(ctx, index, 'no-cache');
  };
}

/** The file a URL path names inside root, or undefined; never a path outside root. */
function fileFor(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const candidate = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  try {
    return fs.statSync(candidate).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** Files are read whole (the largest is a few MB of source map): no half-sent stream when a browser aborts. */
async function send(ctx: Parameters<Middleware>[0], file: string, cacheControl: string): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  const body = await fs.promises.readFile(file);
  ctx.status = 200;
  ctx.type = contentTypes[ext] ?? 'application/octet-stream';
  ctx.set('Cache-Control', cacheControl);
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (ext === '.html') {
    ctx.set('Content-Security-Policy', dashboardCsp);
    ctx.set('Referrer-Policy', 'same-origin');
  }
  ctx.body = body;
}
