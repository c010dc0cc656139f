import { z } from 'zod';
import { deleteSmsSettings, findSmsSettings, saveSmsSettings, twilioBaseUrl, type SmsSettings } from '../../core/channels/sms-settings';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { notFound } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route } from '../route';
import { successSchema } from '../schemas';

/**
 * The tenant's SMS provider, the fallback engine's last channel: Twilio's Programmable Messaging API, or any
 * provider that speaks it (a base URL). The auth token is stored encrypted and only ever shown masked.
 */
const settingsSchema = z.object({
  provider: z.literal('twilio'),
  accountSid: z.string(),
  authToken: z.string().meta({ description: 'Masked: the last four characters at most' }),
  from: z.string().nullable().meta({ description: 'The sender number (E.164), when not a messaging service' }),
  messagingServiceSid: z.string().nullable(),
  baseUrl: z.string().meta({ description: "The API's base URL (Twilio's unless set)" }),
  statusCallbackUrl: z.string().nullable().meta({ description: 'Where the provider posts delivery statuses (this API’s /api/webhook/sms/status); null: none' }),
  fallbackEnabled: z.boolean().meta({ description: 'Send an SMS when no WhatsApp template of a group could be sent' }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const httpUrl = z
  .string()
  .trim()
  .url('must be a URL')
  .regex(/^https?:\/\//, 'must be an http(s) URL')
  .max(2048);

const putBody = z
  .object({
    provider: z.literal('twilio').optional().meta({ description: 'twilio (the default): Twilio’s Programmable Messaging API' }),
    accountSid: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{2,64}$/, 'must be the account SID (letters and digits, e.g. AC…)')
      .optional(),
    authToken: z.string().trim().min(8, 'must be at least 8 characters').max(256).optional().meta({ description: 'Stored encrypted; omit to keep the current one' }),
    from: z
      .string()
      .trim()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number, e.g. +15551234567')
      .nullable()
      .optional(),
    messagingServiceSid: z
      .string()
      .trim()
      .regex(/^MG[A-Za-z0-9]{8,64}$/, 'must be a messaging service SID (MG…)')
      .nullable()
      .optional(),
    baseUrl: httpUrl.optional().meta({ description: `Default ${twilioBaseUrl}` }),
    statusCallbackUrl: httpUrl.nullable().optional().meta({ description: 'Default: PUBLIC_URL + /api/webhook/sms/status, when PUBLIC_URL is set' }),
    fallbackEnabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });

function present(s: SmsSettings): z.infer<typeof settingsSchema> {
  return {
    provider: s.provider,
    accountSid: s.accountSid,
    authToken: s.authTokenMasked,
    from: s.fromNumber,
    messagingServiceSid: s.messagingServiceSid,
    baseUrl: s.baseUrl,
    statusCallbackUrl: s.statusCallbackUrl,
    fallbackEnabled: s.fallbackEnabled,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

const admins = ['admin', 'owner'] as const;

export function smsSettingsRoutes(deps: ApiDeps) {
  const box = secretBoxFor(deps.config);
  const defaultCallback = deps.config.publicUrl ? new URL('/api/webhook/sms/status', deps.config.publicUrl).toString() : null;
  const tag = 'Settings';
  return [
    route({
      method: 'get',
      path: '/api/settings/sms',
      tag,
      summary: "The account's SMS provider, token masked",
      auth: 'session',
      responses: { 200: { description: 'The settings', schema: settingsSchema }, 404: { description: 'No SMS provider is configured' } },
      async handler(ctx, { principal }) {
        const settings = await findSmsSettings(ctx.state.em, principal!.tenantId);
        if (!settings) throw notFound('SMS settings');
        return present(settings);
      },
    }),
    route({
      method: 'put',
      path: '/api/settings/sms',
      tag,
      summary: 'Configure the SMS provider, or change it',
      description:
        'The first save needs accountSid, authToken and a sender: from (E.164) or messagingServiceSid; later saves change only the ' +
        'fields given. fallbackEnabled: true lets the fallback engine send a template group by SMS when no WhatsApp template could be sent.',
      auth: 'session',
      roles: admins,
      body: putBody,
      responses: {
        200: { description: 'Updated', schema: settingsSchema },
        201: { description: 'Created', schema: settingsSchema },
      },
      async handler(ctx, { body, principal }) {
        const exists = await findSmsSettings(ctx.state.em, principal!.tenantId);
        const { settings, created } = await saveSmsSettings(ctx.state.em, box, principal!.tenantId, {
          accountSid: body.accountSid,
          authToken: body.authToken,
          fromNumber: body.from,
          messagingServiceSid: body.messagingServiceSid,
          baseUrl: body.baseUrl,
          statusCallbackUrl: body.statusCallbackUrl !== undefined || exists ? body.statusCallbackUrl : defaultCallback,
          fallbackEnabled: body.fallbackEnabled,
        });
        ctx.status = created ? 201 : 200;
        return present(settings);
      },
    }),
    route({
      method: 'delete',
      path: '/api/settings/sms',
      tag,
      summary: 'Remove the SMS provider (the fallback engine then stops at WhatsApp)',
      auth: 'session',
      roles: admins,
      responses: { 200: { description: 'Removed', schema: successSchema }, 404: { description: 'No SMS provider is configured' } },
      async handler(ctx, { principal }) {
        await deleteSmsSettings(ctx.state.em, principal!.tenantId);
        return { success: true as const };
      },
    }),
  ];
}
