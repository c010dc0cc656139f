import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { createWhatsAppTemplatesClient } from '../../activities/channels/whatsapp';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { templateCategories, templateStatuses, type Template } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import {
  createTemplate,
  deleteTemplate,
  editTemplate,
  findTemplate,
  listTemplates,
  syncTemplates,
  type ProviderAccess,
} from '../../core/templates/catalogue';
import { outboundDeliveries, type DeliveryFilter } from '../../core/templates/delivery-state';
import { deleteGroup, findGroup, listGroups, saveGroup, withMembers, type GroupWithMembers } from '../../core/templates/groups';
import { contactOf } from '../../core/triggers/prepare';
import type { ApiDeps } from '../deps';
import { idParams, route, type AnyRouteSpec } from '../route';
import { successSchema } from '../schemas';

/**
 * Message templates, template groups (the fallback order) and the delivery state of template sends. Template
 * management calls Meta's Business Management API from the request: it sends no message to anyone, and the
 * caller needs Meta's answer (the new template's id and status, or why it was refused).
 */

const uuid = z.string().uuid({ message: 'must be a UUID' });
const phoneNumberId = z.string().trim().regex(/^\d{1,32}$/, "must be Meta's phone number id of one of your lines (digits only)");
const iso = (d: Date) => new Date(d).toISOString();

const componentSchema = z.looseObject({
  type: z.enum(['HEADER', 'BODY', 'FOOTER', 'BUTTONS'], { message: 'must be HEADER, BODY, FOOTER or BUTTONS' }),
});

const templateView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  language: z.string(),
  category: z.enum(templateCategories),
  status: z.enum(templateStatuses).meta({ description: "Meta's review state; only APPROVED templates are sent" }),
  components: z.array(z.unknown()),
  wabaId: z.string().meta({ description: 'The WhatsApp Business Account holding the template' }),
  providerTemplateId: z.string().nullable().meta({ description: "Meta's template id" }),
  rejectedReason: z.string().nullable(),
  qualityScore: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const present = (t: Template): z.infer<typeof templateView> => ({
  id: t.id,
  name: t.name,
  language: t.language,
  category: t.category,
  status: t.status,
  components: t.components,
  wabaId: t.wabaId,
  providerTemplateId: t.providerTemplateId ?? null,
  rejectedReason: t.rejectedReason ?? null,
  qualityScore: t.qualityScore ?? null,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

const createBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(512).regex(/^[a-z0-9_]+$/, 'may contain lowercase letters, digits and underscores only'),
  language: z.string().trim().regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/, 'must be a language code such as en, en_US or he'),
  category: z.enum(templateCategories, { message: `must be one of ${templateCategories.join(', ')}` }),
  components: z
    .array(componentSchema)
    .min(1, 'give at least the BODY component')
    .max(10)
    .refine((cs) => cs.filter((c) => c.type === 'BODY').length === 1, { message: 'must have exactly one BODY component' })
    .meta({ description: "Meta's template components: [{type: 'BODY', text: 'Hi {{1}}', example: {body_text: [['Dana']]}}, …]" }),
  phoneNumberId: phoneNumberId.optional().meta({ description: 'A line of the WhatsApp Business Account to create it in; default: the primary line' }),
});

const updateBody = z
  .object({ category: createBody.shape.category.optional(), components: createBody.shape.components.optional() })
  .refine((v) => v.category !== undefined || v.components !== undefined, { message: 'give category or components to change', path: ['components'] });

const flag = z
  .enum(['1', 'true', '0', 'false'], { message: 'must be 1 or 0' })
  .optional()
  .transform((v) => v === '1' || v === 'true');

const listQuery = z.object({
  status: z.enum(templateStatuses).optional(),
  wabaId: z.string().trim().min(1).optional(),
  name: z.string().trim().min(1).optional(),
  sync: flag.meta({ description: '1: pull the templates from WhatsApp first (as POST /api/templates/sync)' }),
  phoneNumberId: phoneNumberId.optional().meta({ description: 'With sync=1: sync only the WhatsApp Business Account of this line' }),
});

const syncBody = z.object({ phoneNumberId: phoneNumberId.optional() }).optional();
const syncResult = z.object({
  success: z.literal(true),
  wabaIds: z.array(z.string()),
  created: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int().meta({ description: 'Rows WhatsApp no longer lists' }),
  skipped: z
    .array(z.object({ wabaId: z.string(), reason: z.string() }))
    .meta({ description: 'Accounts left out because none of their lines can reach WhatsApp (a token to renew)' }),
  templates: z.array(templateView),
});

const groupView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  templateIds: z.array(z.string().uuid()).meta({ description: 'The fallback order: the first is tried first' }),
  templates: z.array(templateView.pick({ id: true, name: true, language: true, category: true, status: true })),
  preferredPhoneNumberId: z.string().nullable(),
  wabaId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const presentGroup = ({ group, templates, preferredLine }: GroupWithMembers): z.infer<typeof groupView> => ({
  id: group.id,
  name: group.name,
  templateIds: templates.map((t) => t.id),
  templates: templates.map((t) => ({ id: t.id, name: t.name, language: t.language, category: t.category, status: t.status })),
  preferredPhoneNumberId: preferredLine?.phoneNumberId ?? null,
  wabaId: templates[0]?.wabaId ?? preferredLine?.wabaId ?? null,
  createdAt: iso(group.createdAt),
  updatedAt: iso(group.updatedAt),
});

const groupFields = {
  name: z.string().trim().min(1, 'must not be empty').max(200),
  templateIds: z
    .array(uuid)
    .min(1, 'give at least one template')
    .max(20)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat a template' }),
  preferredPhoneNumberId: phoneNumberId
    .nullable()
    .optional()
    .meta({ description: "Meta's phone number id of a line of the same WhatsApp Business Account; null clears it" }),
};
const groupCreateBody = z.object(groupFields);
const groupChanges = z.object(groupFields).partial();
const groupUpdateBody = groupChanges.extend({ id: uuid.optional().meta({ description: 'The group (or give it as ?id=)' }) });
const groupIdQuery = z.object({ id: uuid.optional() });
const groupDeleteBody = z.object({ id: uuid.optional() }).optional();

const needsChange = (body: z.infer<typeof groupChanges>) => {
  if (body.name === undefined && body.templateIds === undefined && body.preferredPhoneNumberId === undefined) {
    throw new AppError('invalid', 'Invalid body: give name, templateIds or preferredPhoneNumberId to change');
  }
};
/** The group a PUT or DELETE means: the path's id, else the body's, else the query's. */
function groupIdIn(byPath: boolean, input: { params: unknown; query: unknown; body: unknown }): string {
  if (byPath) return (input.params as { id: string }).id;
  const id = (input.body as { id?: string } | undefined)?.id ?? (input.query as { id?: string } | undefined)?.id;
  if (!id) throw new AppError('invalid', 'Invalid body: id: required (the template group id, in the body or as ?id=)');
  return id;
}

const deliveryView = z.object({
  messageId: z.string().uuid(),
  providerMessageId: z.string().nullable().meta({ description: "WhatsApp's message id (wamid)" }),
  phone: z.string(),
  type: z.string(),
  templateName: z.string().nullable(),
  status: z.string().meta({ description: 'queued, sent, delivered, read or failed' }),
  errorCode: z.number().int().nullable(),
  errorTitle: z.string().nullable(),
  sourceRef: z.string().nullable(),
  campaignId: z.string().nullable(),
  phoneNumberId: z.string().nullable().meta({ description: 'The line it went out from' }),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  readAt: z.string().nullable(),
  failedAt: z.string().nullable(),
  attempts: z
    .array(
      z.object({
        attemptNo: z.number().int(),
        channel: z.enum(['whatsapp', 'sms']).meta({ description: 'sms: the fallback engine\'s last step; phoneNumberId is then the SMS sender' }),
        phoneNumberId: z.string(),
        templateId: z.string().nullable(),
        templateName: z.string().nullable(),
        templateLanguage: z.string().nullable(),
        outcome: z.enum(['pending', 'sent', 'failed', 'skipped']),
        providerMessageId: z.string().nullable(),
        errorCode: z.number().int().nullable(),
        errorTitle: z.string().nullable(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
      }),
    )
    .meta({ description: 'Each template and line the fallback engine tried, in order (template sends by id or group)' }),
});
const deliverySummary = z.object({
  success: z.literal(true),
  found: z.boolean(),
  sent: z.boolean().meta({ description: 'Whether WhatsApp accepted any matching message (sent, delivered or read)' }),
  status: z.string().nullable().meta({ description: "The newest matching message's status" }),
  count: z.number().int(),
  messages: z.array(deliveryView).meta({ description: 'Newest first' }),
});

const limit = z.coerce.number().int().min(1).max(200).default(20);
const lookupFields = {
  phone: z.string().trim().min(1).max(32).optional().meta({ description: "The customer's phone number, international format" }),
  sourceRef: z.string().trim().min(1).max(200).optional().meta({ description: "The outbound trigger's data.sourceRef" }),
  campaignId: z.string().trim().min(1).max(200).optional().meta({ description: "The outbound trigger's data.campaignId" }),
};
const checkSentQuery = z
  .object({ ...lookupFields, templateName: z.string().trim().min(1).max(512).optional(), limit })
  .refine((q) => q.phone || q.sourceRef || q.campaignId || q.templateName, { message: 'give phone, sourceRef, campaignId or templateName', path: ['phone'] });
const outboundStatusBody = z
  .object({ messageId: z.string().trim().min(1).max(200).optional().meta({ description: 'Our message id, or WhatsApp\'s (wamid)' }), ...lookupFields, limit })
  .refine((b) => b.messageId || b.phone || b.sourceRef || b.campaignId, { message: 'give messageId, phone, sourceRef or campaignId', path: ['messageId'] });

async function lookup(em: EntityManager, tenantId: string, filter: Omit<DeliveryFilter, 'contact'> & { phone?: string }) {
  const { phone, ...rest } = filter;
  const summary = await outboundDeliveries(em, tenantId, { ...rest, contact: phone ? contactOf(phone) : undefined });
  return { success: true as const, found: summary.count > 0, ...summary };
}

const providerErrors = {
  400: { description: "Invalid body, or WhatsApp refused the template (Meta's reason is given)" },
  502: { description: "WhatsApp refused the line's access token: the line is marked as needing re-authentication" },
  503: { description: 'WhatsApp is unavailable or rate-limiting; try again' },
};

export function templateRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const access: ProviderAccess = {
    client: createWhatsAppTemplatesClient({ graphUrl: deps.config.whatsapp.graphUrl, apiVersion: deps.config.whatsapp.apiVersion }),
    box: secretBoxFor(deps.config),
  };
  const tag = 'Templates';
  const groupResponses = {
    200: { description: 'The group', schema: groupView },
    400: { description: 'Invalid body: a template that is not yours, templates of several WABAs, or a preferred line of another WABA' },
    404: { description: 'No such template group in your account' },
  };

  const updateGroup = (path: string, byPath: boolean) =>
    route({
      method: 'put',
      path,
      tag,
      summary: byPath ? 'Change a template group' : 'Change a template group (id in the body or the query)',
      description: 'The fields given replace the current ones; templateIds replaces the whole order.',
      auth: 'user',
      params: byPath ? idParams : undefined,
      query: byPath ? undefined : groupIdQuery,
      body: byPath ? groupChanges : groupUpdateBody,
      responses: groupResponses,
      async handler(ctx, input) {
        const { id: _id, ...changes } = input.body as z.infer<typeof groupUpdateBody>;
        needsChange(changes);
        return presentGroup(await saveGroup(ctx.state.em, input.principal!.tenantId, groupIdIn(byPath, input), changes));
      },
    });
  const removeGroup = (path: string, byPath: boolean) =>
    route({
      method: 'delete',
      path,
      tag,
      summary: byPath ? 'Delete a template group' : 'Delete a template group (id in the body or the query)',
      description: 'Its templates stay.',
      auth: 'user',
      params: byPath ? idParams : undefined,
      query: byPath ? undefined : groupIdQuery,
      body: byPath ? undefined : groupDeleteBody,
      responses: { 200: { description: 'Deleted', schema: successSchema }, 404: { description: 'No such template group in your account' } },
      async handler(ctx, input) {
        await deleteGroup(ctx.state.em, input.principal!.tenantId, groupIdIn(byPath, input));
        return { success: true };
      },
    });

  return [
    route({
      method: 'get',
      path: '/api/templates/groups',
      tag,
      summary: 'List template groups',
      description: 'Each group lists its templates in fallback order, and its preferred line (preferredPhoneNumberId) if it has one.',
      auth: 'user',
      responses: { 200: { description: 'The groups', schema: z.array(groupView) } },
      async handler(ctx, { principal }) {
        return (await listGroups(ctx.state.em, principal!.tenantId)).map(presentGroup);
      },
    }),
    route({
      method: 'post',
      path: '/api/templates/groups',
      tag,
      summary: 'Create a template group (the fallback order)',
      description:
        'Body `{name, templateIds, preferredPhoneNumberId?}`. A template send to the group tries its APPROVED templates in this order; when ' +
        'all fail on the sending line, it tries them on the preferred line (a line of the same WhatsApp Business Account), else on another ' +
        'line of that account. The preferred line is also where outbound triggers with this group send from when the flow has no line of its own.',
      auth: 'user',
      body: groupCreateBody,
      responses: { ...groupResponses, 201: { description: 'Created', schema: groupView } },
      async handler(ctx, { body, principal }) {
        ctx.status = 201;
        return presentGroup(await saveGroup(ctx.state.em, principal!.tenantId, undefined, body));
      },
    }),
    updateGroup('/api/templates/groups', false),
    removeGroup('/api/templates/groups', false),
    route({
      method: 'get',
      path: '/api/templates/groups/:id',
      tag,
      summary: 'One template group',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'The group', schema: groupView }, 404: { description: 'No such template group in your account' } },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        return presentGroup(await withMembers(em, await findGroup(em, principal!.tenantId, params.id)));
      },
    }),
    updateGroup('/api/templates/groups/:id', true),
    removeGroup('/api/templates/groups/:id', true),
    route({
      method: 'post',
      path: '/api/templates/sync',
      tag,
      summary: 'Pull the templates from WhatsApp',
      description:
        "Lists every template of your lines' WhatsApp Business Accounts (or only the one of `phoneNumberId`), following Meta's paging, " +
        'and makes the table mirror it: new ones are added, known ones updated (status, components), those WhatsApp no longer has removed.',
      auth: 'user',
      body: syncBody,
      responses: { 200: { description: 'Synced', schema: syncResult }, ...providerErrors },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const result = await syncTemplates(em, access, principal!.tenantId, { phoneNumberId: body?.phoneNumberId });
        return { success: true, ...result, templates: (await listTemplates(em, principal!.tenantId, {})).map(present) };
      },
    }),
    route({
      method: 'get',
      path: '/api/templates/check-sent',
      tag,
      summary: 'Delivery state of template sends',
      description:
        'The template messages sent to a phone, for a sourceRef or campaignId (the outbound trigger\'s data.sourceRef / data.campaignId), or of ' +
        'a template name — newest first, with their delivery state (queued, sent, delivered, read, failed), error, and each fallback attempt.',
      auth: 'user',
      query: checkSentQuery,
      responses: { 200: { description: 'The matching sends', schema: deliverySummary } },
      async handler(ctx, { query, principal }) {
        return lookup(ctx.state.em, principal!.tenantId, { ...query, templatesOnly: true });
      },
    }),
    route({
      method: 'get',
      path: '/api/templates',
      tag,
      summary: 'List templates with their approval status',
      description: 'Filters: status, wabaId, name. With `sync=1` the templates are first pulled from WhatsApp (as POST /api/templates/sync).',
      auth: 'user',
      query: listQuery,
      responses: { 200: { description: 'The templates', schema: z.array(templateView) }, ...providerErrors },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const { sync, phoneNumberId: line, ...filter } = query;
        if (sync) await syncTemplates(em, access, principal!.tenantId, { phoneNumberId: line });
        return (await listTemplates(em, principal!.tenantId, filter)).map(present);
      },
    }),
    route({
      method: 'post',
      path: '/api/templates',
      tag,
      summary: 'Create a template (submitted to WhatsApp for review)',
      description:
        "Submits `{name, language, category, components}` to the WhatsApp Business Account of `phoneNumberId` (default: the primary line). " +
        'The answer carries Meta\'s template id and status (usually PENDING); the status webhook then moves it to APPROVED or REJECTED.',
      auth: 'user',
      body: createBody,
      responses: {
        201: { description: 'Submitted', schema: templateView },
        409: { description: 'A template with this name and language already exists in that WABA' },
        ...providerErrors,
      },
      async handler(ctx, { body, principal }) {
        const template = await createTemplate(ctx.state.em, access, principal!.tenantId, body);
        ctx.status = 201;
        return present(template);
      },
    }),
    route({
      method: 'get',
      path: '/api/templates/:id',
      tag,
      summary: 'One template',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'The template', schema: templateView }, 404: { description: 'No such template in your account' } },
      async handler(ctx, { params, principal }) {
        return present(await findTemplate(ctx.state.em, principal!.tenantId, params.id));
      },
    }),
    route({
      method: 'put',
      path: '/api/templates/:id',
      tag,
      summary: 'Edit a template (category, components)',
      description: 'The change is made at WhatsApp, which reviews the template again: its status becomes PENDING until the status webhook says otherwise.',
      auth: 'user',
      params: idParams,
      body: updateBody,
      responses: { 200: { description: 'Edited', schema: templateView }, 404: { description: 'No such template in your account' }, ...providerErrors },
      async handler(ctx, { params, body, principal }) {
        return present(await editTemplate(ctx.state.em, access, principal!.tenantId, params.id, body));
      },
    }),
    route({
      method: 'delete',
      path: '/api/templates/:id',
      tag,
      summary: 'Delete a template (at WhatsApp, then here)',
      description: 'Deletes this language of the template from the WhatsApp Business Account, then the row; it leaves every group it was in.',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'Deleted', schema: successSchema }, 404: { description: 'No such template in your account' }, ...providerErrors },
      async handler(ctx, { params, principal }) {
        await deleteTemplate(ctx.state.em, access, principal!.tenantId, params.id);
        return { success: true };
      },
    }),
    route({
      method: 'post',
      path: '/api/webhook/outbound-status',
      tag: 'Triggers',
      summary: 'Delivery state of an outbound trigger',
      description:
        'For integrators that poll: the messages of outbound triggers by `messageId` (ours or the wamid), by `phone`, or by the trigger\'s ' +
        '`sourceRef` / `campaignId`, newest first, each with its delivery state (queued, sent, delivered, read, failed) and attempts. ' +
        'Auth: the API JWT (Bearer) or a session cookie.',
      auth: 'user',
      body: outboundStatusBody,
      responses: { 200: { description: 'The matching messages', schema: deliverySummary } },
      async handler(ctx, { body, principal }) {
        return lookup(ctx.state.em, principal!.tenantId, body);
      },
    }),
  ];
}
