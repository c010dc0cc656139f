import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { AppError } from '../../core/errors';

const methodsWithBody = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Providers that post form-encoded callbacks (Twilio); those routes read their own bodies (api/routes/sms-webhook.ts). */
const formEncodedPaths = new Set(['/api/webhook/sms/status']);

/**
 * Reads JSON bodies ourselves rather than with a generic parser: the raw bytes are kept (webhook signatures
 * are computed over them), the size limit is ours, and every failure is a 4xx in our error format.
 */
export function jsonBody(opts: { limitBytes: number }): Middleware {
  return async (ctx, next) => {
    if (!methodsWithBody.has(ctx.method) || !hasBody(ctx.req.headers)) return next();
    if (ctx.is('multipart/form-data')) return next();
    if (formEncodedPaths.has(ctx.path) && ctx.is('application/x-www-form-urlencoded')) return next();
    if (!ctx.is('application/json', 'application/*+json')) {
      throw new AppError('unsupported_media', `Content-Type must be application/json, got "${ctx.get('content-type') || 'none'}"`);
    }
    let raw: Buffer;
    try {
      raw = await getRawBody(ctx.req, { limit: opts.limitBytes, length: ctx.get('content-length') || undefined });
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type === 'entity.too.large') throw new AppError('too_large', `Request body is larger than ${opts.limitBytes} bytes`);
      throw new AppError('invalid', 'Request body could not be read');
    }
    ctx.state.rawBody = raw;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new AppError('invalid', 'Request body is not valid UTF-8');
    }
    if (text.trim() === '') {
      ctx.request.body = undefined;
      return next();
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new AppError('invalid', `Malformed JSON: ${(err as Error).message}`);
    }
    // PostgreSQL cannot store U+0000 in text or jsonb: refuse it here rather than fail at the database.
    if (containsNul(body)) throw new AppError('invalid', 'Request body contains a NUL character (\\u0000), which cannot be stored');
    ctx.request.body = body;
    return next();
  };
}

/** Walks the parsed JSON without recursion (a deeply nested body must not overflow the stack). */
function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

declare module 'koa' {
  interface Request {
    body?: unknown;
  }
}
