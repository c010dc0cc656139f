import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { deleteLine, findTenantLine, maskedToken, saveLine } from '../../core/channels/lines';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { WhatsAppLine, lineStatuses } from '../../core/db/entities';
import { notFound } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { successSchema } from '../schemas';

/**
 * The tenant's WhatsApp lines (Cloud API phone numbers). The access token is stored encrypted and only ever
 * shown masked; the verify token is shown, since it must be pasted into Meta's webhook settings.
 */
export const lineSchema = z.object({
  id: z.string().uuid(),
  tenantId: z.string().uuid(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  displayPhoneNumber: z.string(),
  accessToken: z.string().describe('Masked: the last four characters at most'),
  verifyToken: z.string(),
  isPrimary: z.boolean(),
  status: z.enum(lineStatuses),
  ratePerSecond: z.number().int().describe('Messages per second FlowBot sends from this line at most'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const phoneNumberId = z.string().trim().regex(/^\d{1,32}$/, "must be Meta's phone number id (digits only)");
const fields = {
  phoneNumberId,
  wabaId: z.string().trim().min(1, 'must not be empty').max(64),
  displayPhoneNumber: z.string().trim().max(32),
  accessToken: z.string().trim().min(1, 'must not be empty').max(4096),
  verifyToken: z.string().trim().min(8, 'must be at least 8 characters').max(200),
  isPrimary: z.boolean(),
  /** `needs_reauth` is set by FlowBot when Meta rejects the token; a new token clears it. */
  status: z.enum(['active', 'disabled']),
  /** Meta's throughput of the number: 80 by default, up to 1,000 after Meta's upgrade. */
  ratePerSecond: z.number().int().min(1).max(1000),
};

const upsertBody = z.object({
  id: z.string().uuid({ message: 'must be a UUID' }).optional(),
  phoneNumberId,
  wabaId: fields.wabaId.optional(),
  displayPhoneNumber: fields.displayPhoneNumber.optional(),
  accessToken: fields.accessToken.optional(),
  verifyToken: fields.verifyToken.optional(),
  isPrimary: fields.isPrimary.optional(),
  status: fields.status.optional(),
  ratePerSecond: fields.ratePerSecond.optional(),
});

const updateBody = z
  .object(fields)
  .partial()
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });

export function present(line: WhatsAppLine): z.infer<typeof lineSchema> {
  return {
    id: line.id,
    tenantId: line.tenantId,
    phoneNumberId: line.phoneNumberId,
    wabaId: line.wabaId,
    displayPhoneNumber: line.displayPhoneNumber,
    accessToken: maskedToken(line),
    verifyToken: line.verifyToken,
    isPrimary: line.isPrimary,
    status: line.status,
    ratePerSecond: line.ratePerSecond,
    createdAt: line.createdAt.toISOString(),
    updatedAt: line.updatedAt.toISOString(),
  };
}

export function whatsappSettingsRoutes(deps: ApiDeps) {
  const box = secretBoxFor(deps.config);
  const webhookUrl = deps.config.publicUrl ? new URL('/api/webhook/whatsapp', deps.config.publicUrl).toString() : null;
  return [
    route({
      method: 'get',
      path: '/api/settings/whatsapp',
      tag: 'Settings',
      summary: "The tenant's WhatsApp lines, tokens masked",
      auth: 'user',
      responses: {
        200: {
          description: 'The lines, primary first, and the callback URL to give Meta',
          schema: z.object({ lines: z.array(lineSchema), webhookUrl: z.string().nullable() }),
        },
      },
      async handler(ctx, { principal }) {
        const em: EntityManager = ctx.state.em;
        const lines = await em.find(WhatsAppLine, { tenantId: principal!.tenantId }, { orderBy: { isPrimary: 'desc', createdAt: 'asc', id: 'asc' } });
        return { lines: lines.map(present), webhookUrl };
      },
    }),
    route({
      method: 'post',
      path: '/api/settings/whatsapp',
      tag: 'Settings',
      summary: 'Connect a WhatsApp line, or update one (by id, else by phone number id)',
      description:
        'A new line needs phoneNumberId, wabaId and accessToken; its verifyToken is generated unless given. The first line ' +
        'becomes primary; isPrimary: true moves the primary flag to this line.',
      auth: 'user',
      body: upsertBody,
      responses: {
        200: { description: 'Updated', schema: lineSchema },
        201: { description: 'Created', schema: lineSchema },
        404: { description: 'No line with this id in your account' },
        409: { description: 'The phone number id is connected to another account' },
      },
      async handler(ctx, { body, principal }) {
        const { id, ...changes } = body;
        const { line, created } = await saveLine(ctx.state.em, box, principal!.tenantId, { id }, changes);
        ctx.status = created ? 201 : 200;
        return present(line);
      },
    }),
    route({
      method: 'get',
      path: '/api/settings/whatsapp/:id',
      tag: 'Settings',
      summary: 'One WhatsApp line, token masked',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'The line', schema: lineSchema }, 404: { description: 'No such line in your account' } },
      async handler(ctx, { params, principal }) {
        const line = await findTenantLine(ctx.state.em, principal!.tenantId, params.id);
        if (!line) throw notFound('WhatsApp line');
        return present(line);
      },
    }),
    route({
      method: 'put',
      path: '/api/settings/whatsapp/:id',
      tag: 'Settings',
      summary: 'Update a WhatsApp line: new token, verify token, primary flag, disable',
      auth: 'user',
      params: idParams,
      body: updateBody,
      responses: {
        200: { description: 'Updated', schema: lineSchema },
        404: { description: 'No such line in your account' },
        409: { description: 'The phone number id is connected elsewhere' },
      },
      async handler(ctx, { params, body, principal }) {
        const { line } = await saveLine(ctx.state.em, box, principal!.tenantId, { id: params.id }, body);
        return present(line);
      },
    }),
    route({
      method: 'delete',
      path: '/api/settings/whatsapp/:id',
      tag: 'Settings',
      summary: 'Disconnect a WhatsApp line (the oldest other line becomes primary)',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'Deleted', schema: successSchema }, 404: { description: 'No such line in your account' } },
      async handler(ctx, { params, principal }) {
        await deleteLine(ctx.state.em, principal!.tenantId, params.id);
        return { success: true };
      },
    }),
  ];
}
