import type { Middleware } from 'koa';
import { z } from 'zod';
import { checkVerificationCode } from '../../core/auth/verification-codes';
import { VerificationCode, verificationChannels, type VerificationChannel } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import { verificationWorkflowId } from '../../core/temporal/workflow-ids';
import type { sendVerificationCode } from '../../workflows/verification/send-verification-code';
import type { ApiDeps } from '../deps';
import { clientIp, rateLimit } from '../middleware/rate-limit';
import { route, type AnyRouteSpec } from '../route';
import { email, phone } from '../schemas';

/** Codes one destination may be sent per rate-limit window, whoever asks: the endpoint must not spam anyone. */
const CODES_PER_DESTINATION = 5;
/** How long the API waits for Temporal to accept the delivery workflow before answering 503. */
const START_TIMEOUT_MS = 5000;

const channelLabel: Record<VerificationChannel, string> = { email: 'e-mail', whatsapp: 'WhatsApp' };

/** Phone numbers are accepted with spaces, dashes or brackets, and kept as `+` and digits. */
function normalizePhone(value: string): string | undefined {
  const parsed = phone.safeParse(value.replace(/[\s().-]/g, ''));
  return parsed.success ? `+${parsed.data.replace(/^\+/, '')}` : undefined;
}

function normalizeEmail(value: string): string | undefined {
  const parsed = email.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const sendBody = z
  .object({
    channel: z.enum(verificationChannels).optional().describe('How to send the code; the destination must be an e-mail address or a phone number to match'),
    destination: z.string().max(254).optional().describe('E-mail address, or phone number in international format (+972501234567)'),
    email: z.string().max(254).optional().describe('Shorthand for {"channel": "email", "destination": ...}'),
    phone: z.string().max(32).optional().describe('Shorthand for {"channel": "whatsapp", "destination": ...}'),
  })
  .transform((body, ctx) => {
    const channel = body.channel ?? (body.email !== undefined ? 'email' : body.phone !== undefined ? 'whatsapp' : undefined);
    const raw = body.destination ?? (channel === 'email' ? body.email : body.phone);
    if (!channel || raw === undefined) {
      ctx.addIssue({ code: 'custom', path: ['destination'], message: 'is required: send {channel, destination}, {email} or {phone}' });
      return z.NEVER;
    }
    const destination = channel === 'email' ? normalizeEmail(raw) : normalizePhone(raw);
    if (!destination) {
      const expected = channel === 'email' ? 'a valid e-mail address' : 'a phone number in international format, e.g. +972501234567';
      ctx.addIssue({ code: 'custom', path: ['destination'], message: `must be ${expected} for channel "${channel}"` });
      return z.NEVER;
    }
    return { channel, destination };
  });

const verifyBody = z.object({
  verificationId: z.string().uuid({ message: 'must be a UUID' }).optional().describe('From send-verification; when given, it must be the latest code sent to the destination'),
  destination: z
    .string()
    .max(254)
    .transform((value, ctx) => {
      const destination = value.includes('@') ? normalizeEmail(value) : normalizePhone(value);
      if (!destination) {
        ctx.addIssue({ code: 'custom', message: 'must be an e-mail address or a phone number in international format' });
        return z.NEVER;
      }
      return destination;
    })
    .describe('Where the code was sent: the same e-mail address or phone number as in send-verification'),
  code: z.string().trim().regex(/^\d{6}$/, 'must be the 6-digit code'),
});

const sendResponse = z.object({
  success: z.literal(true),
  verificationId: z.string().uuid(),
  expiresInSec: z.number().int(),
  message: z.string(),
});

export function verificationRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const { max, windowSec } = deps.config.authRateLimit;
  const { ttlSec, maxTries } = deps.config.verification;
  const windowMin = Math.round(windowSec / 60);
  const perIp = (name: string) => rateLimit({ orm: deps.orm, name, max, windowSec, keyOf: clientIp });
  const limitDestination = rateLimit({
    orm: deps.orm,
    name: 'send-verification:destination',
    max: CODES_PER_DESTINATION,
    windowSec,
    keyOf: (ctx) => ctx.state.verificationDestination,
  });
  // Counts only well-formed requests: an invalid body is answered 400 by validation right after.
  const perDestination: Middleware = (ctx, next) => {
    const parsed = sendBody.safeParse(ctx.request.body);
    if (!parsed.success) return next();
    ctx.state.verificationDestination = parsed.data.destination;
    return limitDestination(ctx, next);
  };

  return [
    route({
      method: 'post',
      path: '/api/auth/send-verification',
      tag: 'Auth & Identity',
      summary: 'Send an e-mail or WhatsApp verification code',
      description:
        `Sends a 6-digit code to \`destination\` by e-mail or WhatsApp and answers at once; delivery runs (and is retried) ` +
        `in the background. The code expires after ${ttlSec} s and allows ${maxTries} tries; sending a new code replaces ` +
        `the previous one. Body: \`{channel, destination}\`, or the shorthands \`{email}\` / \`{phone}\`. ` +
        `Rate limits: ${CODES_PER_DESTINATION} codes / ${windowMin} min per destination, ${max} requests / ${windowMin} min per IP.`,
      auth: 'public',
      before: [perIp('send-verification'), perDestination],
      body: sendBody,
      responses: {
        202: { description: 'Accepted: the code is being sent', schema: sendResponse },
        429: { description: 'Too many codes for this destination or from this IP' },
        503: { description: 'The workflow service is unavailable; nothing was sent' },
      },
      async handler(ctx, { body }) {
        const em = ctx.state.em;
        const row = em.create(VerificationCode, {
          id: newId(),
          channel: body.channel,
          destination: body.destination,
          expiresAt: new Date(Date.now() + ttlSec * 1000),
        });
        await em.flush();
        const { client, connection, taskQueue } = deps.temporal;
        try {
          await connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
            client.workflow.start<typeof sendVerificationCode>('sendVerificationCode', {
              taskQueue,
              workflowId: verificationWorkflowId(row.id),
              args: [row.id],
            }),
          );
        } catch (err) {
          // Nothing will deliver this code, so it must not become the destination's newest code.
          await em.remove(row).flush();
          ctx.state.log.error({ err, verificationId: row.id }, 'could not start the verification workflow');
          throw new AppError('unavailable', 'Cannot send a verification code right now: the workflow service is unavailable; try again shortly');
        }
        ctx.state.log.info({ verificationId: row.id, channel: body.channel }, 'verification code requested');
        ctx.status = 202;
        return {
          success: true,
          verificationId: row.id,
          expiresInSec: ttlSec,
          message: `A verification code is on its way by ${channelLabel[body.channel]}; it expires in ${Math.round(ttlSec / 60)} minutes`,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/verify-code',
      tag: 'Auth & Identity',
      summary: 'Verify a received code',
      description:
        'Checks the code last sent to `destination`. A code works once, until it expires, and locks after ' +
        `${maxTries} wrong tries (429: request a new code). When the destination is a user's e-mail or phone, ` +
        `that address is marked verified. Rate limit: ${max} requests / ${windowMin} min per IP.`,
      auth: 'public',
      before: [perIp('verify-code')],
      body: verifyBody,
      responses: {
        200: { description: 'Verified', schema: z.object({ success: z.literal(true), verified: z.literal(true) }) },
        400: { description: 'Wrong, expired or already used code (the message says which)' },
        429: { description: 'Too many wrong tries for this code, or too many requests from this IP' },
      },
      async handler(ctx, { body }) {
        await checkVerificationCode(ctx.state.em, { ...body, maxTries });
        return { success: true, verified: true };
      },
    }),
  ];
}
