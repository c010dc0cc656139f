import { z } from 'zod';
import { createWhatsAppOnboardingClient, type WabaPhoneNumber } from '../../activities/channels/whatsapp/onboarding';
import { addExtraLine, listExtraLines } from '../../core/channels/onboarding/extra-lines';
import type { OnboardingAccess } from '../../core/channels/onboarding/meta';
import { resetLinesBeforeReconnect } from '../../core/channels/onboarding/reset';
import { completeEmbeddedSignup } from '../../core/channels/onboarding/signup';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';
import { lineSchema, present as presentLine } from './whatsapp-settings';

/**
 * Connecting WhatsApp numbers through Meta rather than by pasting ids and tokens: Embedded Signup, the reset
 * before reconnecting, and further numbers of the same WhatsApp Business Account (WABA). Browser sessions only:
 * these are the account owner's actions in the dashboard.
 */

const metaId = z.string().trim().regex(/^\d{1,32}$/, "must be Meta's id (digits only)");
const pin = z.string().regex(/^\d{6}$/, 'must be the 6-digit two-step verification PIN');

const sessionData = z.object({
  waba_id: metaId.optional(),
  phone_number_id: metaId.optional(),
  business_id: z.string().max(64).optional(),
  current_step: z.string().max(200).optional(),
  error_message: z.string().max(2000).optional(),
});

const signupBody = z.object({
  code: z.string().trim().min(1, 'must not be empty').max(4096).describe("The code FB.login's authResponse gave the page at the end of Embedded Signup"),
  sessionInfo: z
    .union([z.object({ type: z.string().max(64).optional(), event: z.string().max(64).optional(), data: sessionData }), sessionData])
    .optional()
    .describe(
      "Embedded Signup's session info: the `WA_EMBEDDED_SIGNUP` message event (`{type, event, data: {waba_id, phone_number_id}}`) or its `data`. " +
        'Without waba_id, the WABAs the code granted are connected; without phone_number_id, all their numbers.',
    ),
  pin: pin.optional().describe('Registers numbers not yet registered with the Cloud API, with this two-step verification PIN'),
});

const phoneSchema = z.object({
  phoneNumberId: z.string(),
  displayPhoneNumber: z.string(),
  verifiedName: z.string().optional(),
  codeVerificationStatus: z.string().optional().describe('VERIFIED, NOT_VERIFIED, EXPIRED'),
  status: z.string().optional().describe("Meta's status of the number: CONNECTED once registered with the Cloud API, PENDING before"),
  qualityRating: z.string().optional().describe('GREEN, YELLOW, RED, UNKNOWN'),
  platformType: z.string().optional(),
});

const presentPhone = (p: WabaPhoneNumber): z.infer<typeof phoneSchema> => ({
  phoneNumberId: p.id,
  displayPhoneNumber: p.displayPhoneNumber,
  ...(p.verifiedName ? { verifiedName: p.verifiedName } : {}),
  ...(p.codeVerificationStatus ? { codeVerificationStatus: p.codeVerificationStatus } : {}),
  ...(p.status ? { status: p.status } : {}),
  ...(p.qualityRating ? { qualityRating: p.qualityRating } : {}),
  ...(p.platformType ? { platformType: p.platformType } : {}),
});

const signupAnswer = z.object({
  wabaIds: z.array(z.string()),
  lines: z.array(
    z.object({
      line: lineSchema,
      created: z.boolean().describe('false: the number was already your line and got the new token'),
      phone: phoneSchema,
      registration: z.enum(['registered_now', 'already_registered', 'pending']).describe('pending: register it with POST /api/whatsapp/extra-wa-lines {registerOnly, pin}'),
    }),
  ),
});

const resetBody = z
  .object({
    unsubscribe: z.boolean().default(false).describe("Also stop FlowBot's app receiving the webhooks of the lines' WABAs (kept for a WABA another account uses)"),
  })
  .default({ unsubscribe: false });

const resetAnswer = z.object({
  removedLines: z.array(z.object({ id: z.string(), phoneNumberId: z.string(), wabaId: z.string() })),
  pausedCampaignIds: z.array(z.string()),
  webhooks: z.array(z.object({ wabaId: z.string(), outcome: z.enum(['unsubscribed', 'kept_shared', 'failed']), error: z.string().optional() })),
});

const extraQuery = z.object({ wabaId: metaId.optional().describe("Another of your WABAs than the primary line's") });

const extraBody = z
  .object({
    phoneNumberId: metaId,
    wabaId: metaId.optional().describe("The WABA of the number, if not the primary line's; the token of your line in it is shared"),
    registerOnly: z.boolean().optional().describe('Only register the number with the Cloud API (needs pin); no line is added'),
    pin: pin.optional().describe('Two-step verification PIN: a number not yet registered is registered with it first'),
  })
  .refine((b) => !b.registerOnly || b.pin !== undefined, { message: 'registerOnly needs the pin to register the number with', path: ['pin'] });

const metaErrors = {
  400: { description: "Invalid body, or Meta refused what it names (a used or expired code, a WABA or number the token cannot reach, a wrong PIN): Meta's reason is given" },
  409: { description: 'The number is already connected (to your account, or to another)' },
  502: { description: "Meta refused FlowBot's app credentials or the line's token, or failed" },
};

export function whatsappOnboardingRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const access: OnboardingAccess = {
    client: createWhatsAppOnboardingClient({ graphUrl: deps.config.whatsapp.graphUrl, apiVersion: deps.config.whatsapp.apiVersion }),
    box: secretBoxFor(deps.config),
    app: { appId: deps.config.whatsapp.appId, appSecret: deps.config.whatsapp.appSecret },
  };
  const tag = 'WhatsApp onboarding';
  return [
    route({
      method: 'post',
      path: '/api/whatsapp/embedded-signup',
      tag,
      summary: "Connect the WhatsApp number(s) a customer chose in Meta's Embedded Signup",
      description:
        "Exchanges the code for a business token, finds the WABA and phone number (session info, else the token's grants), registers " +
        "unregistered numbers when a PIN is given, subscribes FlowBot's app to the WABA's webhooks, and stores each number as a line " +
        'with the token encrypted. The first line of the account becomes primary. A number connected before a reset gets its old line back.',
      auth: 'session',
      body: signupBody,
      responses: {
        200: { description: 'Connected: every number was already your line and got the new token', schema: signupAnswer },
        201: { description: 'Connected: at least one new line', schema: signupAnswer },
        ...metaErrors,
        503: { description: 'Embedded Signup is not configured (META_APP_ID, META_APP_SECRET)' },
      },
      async handler(ctx, { body, principal }) {
        const info = body.sessionInfo ?? {};
        const event = 'event' in info ? info.event : undefined;
        const data = 'data' in info ? info.data : (info as z.infer<typeof sessionData>);
        if (event && !event.startsWith('FINISH')) {
          const why = data.error_message ?? (data.current_step ? `left at step ${data.current_step}` : undefined);
          throw new AppError('invalid', `Embedded Signup did not finish (event ${event}${why ? `: ${why}` : ''}): nothing to connect`);
        }
        const result = await completeEmbeddedSignup(ctx.state.em, access, principal!.tenantId, {
          code: body.code,
          wabaId: data.waba_id,
          phoneNumberId: data.phone_number_id,
          pin: body.pin,
        });
        ctx.status = result.lines.some((l) => l.created) ? 201 : 200;
        return {
          wabaIds: result.wabaIds,
          lines: result.lines.map((l) => ({ line: presentLine(l.line), created: l.created, phone: presentPhone(l.phone), registration: l.registration })),
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/whatsapp/reset-wa-before-reconnect',
      tag,
      summary: "Remove all of the account's WhatsApp lines before connecting again with Embedded Signup",
      description:
        'Conversations and messages are kept. Running campaigns on these lines are paused, to be resumed once the number is back. ' +
        'Connecting the same number again (Embedded Signup or an extra line) gives it its old line id back, so its conversations, ' +
        "campaigns, flows and template groups are its own again. Journeys keep waiting; one that sends before the number is back fails.",
      auth: 'session',
      body: resetBody,
      responses: { 200: { description: 'Removed', schema: resetAnswer } },
      async handler(ctx, { body, principal }) {
        return resetLinesBeforeReconnect(ctx.state.em, access, deps.temporal, principal!.tenantId, { unsubscribe: body.unsubscribe }, deps.logger);
      },
    }),
    route({
      method: 'get',
      path: '/api/whatsapp/extra-wa-lines',
      tag,
      summary: "The WABA's phone numbers that are not FlowBot lines yet",
      description: "Asks Meta for the numbers of the primary line's WABA (or `wabaId`), with the token of your line in it.",
      auth: 'session',
      query: extraQuery,
      responses: {
        200: { description: 'The numbers, with their state at Meta', schema: z.object({ wabaId: z.string(), phoneNumbers: z.array(phoneSchema) }) },
        400: { description: 'No line connected yet, or none in that WABA' },
        502: metaErrors[502],
      },
      async handler(ctx, { query, principal }) {
        const { wabaId, phoneNumbers } = await listExtraLines(ctx.state.em, access, principal!.tenantId, query.wabaId);
        return { wabaId, phoneNumbers: phoneNumbers.map(presentPhone) };
      },
    }),
    route({
      method: 'post',
      path: '/api/whatsapp/extra-wa-lines',
      tag,
      summary: 'Add another number of the WABA as a line sharing its token, or only register a PENDING number with the Cloud API',
      auth: 'session',
      body: extraBody,
      responses: {
        200: {
          description: 'registerOnly: the number is registered with the Cloud API',
          schema: z.object({ registered: z.literal(true), wabaId: z.string(), phone: phoneSchema }),
        },
        201: { description: 'The new line', schema: z.object({ line: lineSchema, phone: phoneSchema, registeredNow: z.boolean() }) },
        ...metaErrors,
      },
      async handler(ctx, { body, principal }) {
        const result = await addExtraLine(ctx.state.em, access, principal!.tenantId, body);
        if (result.kind === 'registered') return { registered: true as const, wabaId: result.wabaId, phone: presentPhone(result.phone) };
        ctx.status = 201;
        return { line: presentLine(result.line), phone: presentPhone(result.phone), registeredNow: result.registeredNow };
      },
    }),
  ];
}
