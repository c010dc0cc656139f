import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { z } from 'zod';
import { statusCallbackFor } from '../../activities/channels/sms/fallback';
import { validTwilioSignature } from '../../activities/channels/sms/signature';
import { applySmsStatus, findSmsAttempt } from '../../activities/channels/sms/status';
import { smsCredentials } from '../../core/channels/sms-settings';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { successSchema } from '../schemas';

/**
 * The SMS provider's status callback (Twilio's StatusCallback): form-encoded, signed with X-Twilio-Signature
 * by the auth token of the tenant whose SMS it is. The update is small and idempotent, so it is applied here
 * rather than through the webhook inbox.
 */

/** Reads the form body; every parameter is kept, since the signature covers those this route does not use. */
function formBody(limitBytes: number): Middleware {
  return async (ctx, next) => {
    if (!ctx.is('application/x-www-form-urlencoded')) {
      throw new AppError('unsupported_media', `Content-Type must be application/x-www-form-urlencoded, got "${ctx.get('content-type') || 'none'}"`);
    }
    let raw: string;
    try {
      raw = (await getRawBody(ctx.req, { limit: limitBytes, length: ctx.get('content-length') || undefined })).toString('utf8');
    } catch (err) {
      if ((err as { type?: string }).type === 'entity.too.large') throw new AppError('too_large', `Request body is larger than ${limitBytes} bytes`);
      throw new AppError('invalid', 'Request body could not be read');
    }
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
    ctx.state.formParams = params;
    ctx.request.body = params;
    return next();
  };
}

const statusBody = z.object({
  MessageSid: z.string().min(1, 'must not be empty').max(64),
  MessageStatus: z.string().min(1, 'must not be empty').max(32).meta({ description: 'queued, sending, sent, delivered, undelivered or failed' }),
  ErrorCode: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a number')
    .optional(),
  AccountSid: z.string().max(64).optional(),
});

export function smsWebhookRoutes(deps: ApiDeps) {
  const box = secretBoxFor(deps.config);
  return [
    route({
      method: 'post',
      path: '/api/webhook/sms/status',
      tag: 'Webhooks',
      summary: "The SMS provider's status callback (Twilio's wire format)",
      description:
        'Twilio (or a provider speaking its API) posts MessageSid and MessageStatus here, form-encoded and signed with X-Twilio-Signature ' +
        '(HMAC-SHA1 of the URL and the sorted parameters, keyed by the auth token). Moves the SMS fallback attempt and its message to sent, ' +
        'delivered or failed. FlowBot gives this URL, with the attempt as `attempt`, as each SMS’s StatusCallback.',
      auth: 'public',
      body: statusBody,
      bodyContentType: 'application/x-www-form-urlencoded',
      query: z.object({ attempt: z.string().max(100).optional() }),
      before: [formBody(deps.config.bodyLimitBytes)],
      responses: {
        200: { description: 'Applied', schema: successSchema },
        403: { description: 'The signature does not match' },
        404: { description: 'No SMS was sent with this id or attempt' },
      },
      async handler(ctx, { body, query }) {
        const attempt = await findSmsAttempt(ctx.state.em, query.attempt, body.MessageSid);
        if (!attempt) throw new AppError('not_found', 'No SMS was sent with this id');
        const settings = await smsCredentials(ctx.state.em, box, attempt.tenantId);
        // The URL Twilio signed is the one it was given; behind a proxy this process may see another.
        const urls = [ctx.href];
        if (deps.config.publicUrl) urls.push(new URL(ctx.originalUrl, deps.config.publicUrl).toString());
        if (settings?.statusCallbackUrl && query.attempt) urls.push(statusCallbackFor(settings.statusCallbackUrl, query.attempt));
        if (!settings || !validTwilioSignature(settings.authToken, ctx.get('x-twilio-signature') || undefined, urls, ctx.state.formParams)) {
          throw new AppError('forbidden', 'Invalid X-Twilio-Signature');
        }
        await applySmsStatus(ctx.state.em, attempt, { messageSid: body.MessageSid, status: body.MessageStatus, errorCode: body.ErrorCode ? Number(body.ErrorCode) : undefined });
        return { success: true as const };
      },
    }),
  ];
}
