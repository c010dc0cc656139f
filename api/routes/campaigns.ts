import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { acceptBulkSend } from '../../core/campaigns/bulk-send';
import { controlCampaign, findCampaign, listCampaigns, progressOf, type CampaignProgress } from '../../core/campaigns/repository';
import { Campaign, campaignStatuses, WhatsAppLine } from '../../core/db/entities';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { pagination } from '../schemas';

/**
 * Bulk sends and the campaigns they become. POST /api/templates/bulk-send answers at once (202) with the
 * campaign id; the campaign workflow sends at the line's governed rate. Every route is scoped to the caller's
 * tenant: another tenant's campaign is answered 404, as if absent.
 */

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

const recipientSchema = z.union([
  z.string().trim().min(7, 'must be a phone number in international format').max(20),
  z.object({
    phone: z.string().trim().min(7, 'must be a phone number in international format').max(20),
    params: z.array(z.string().min(1).max(1024)).max(50).optional().meta({ description: "This recipient's template body parameters, in order" }),
  }),
]);

const bulkSendBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional().meta({ description: 'Shown in the campaign list; a name is made up when absent' }),
    templateName: z.string().min(1).max(512).optional().meta({ description: 'An approved template, by name (with language)' }),
    language: z.string().min(2).max(15).optional().meta({ description: "The template's language code, e.g. en_US or he; default en (or the template's own)" }),
    templateId: z.string().uuid({ message: 'must be a template id (a UUID)' }).optional(),
    templateGroupId: z.string().uuid({ message: 'must be a template group id (a UUID)' }).optional().meta({
      description: "A template group: its templates are tried in order when one is refused; its preferredPhoneNumberId is the line unless phoneNumberId is given",
    }),
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, "must be Meta's phone number id (digits only)").optional().meta({
      description: "The line to send from (Meta's phone number id). Default: the template group's preferred line, else your primary line",
    }),
    params: z.array(z.string().min(1).max(1024)).max(50).optional().meta({ description: 'Template body parameters for recipients that give none' }),
    recipients: z.array(recipientSchema).min(1, 'give at least one recipient').max(100_000).meta({
      description: 'Phone numbers in international format, or {phone, params}; a number given twice is sent once',
    }),
    sourceRef: z.string().trim().min(1).max(200).optional().meta({ description: 'Your reference, stored on every message of the campaign' }),
  })
  .refine((b) => Boolean(b.templateName || b.templateId || b.templateGroupId), { message: 'give templateName, templateId or templateGroupId', path: ['templateName'] });

const progressSchema = z.object({
  total: z.number().int(),
  queued: z.number().int().meta({ description: 'Not sent yet, or its outcome not known yet' }),
  sent: z.number().int(),
  delivered: z.number().int(),
  read: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int().meta({ description: 'Opted out, or the campaign was cancelled before their turn' }),
  optedOut: z.number().int().meta({ description: 'Of the skipped: recipients who had opted out' }),
});

const campaignSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  status: z.enum(campaignStatuses),
  statusReason: z.string().nullable().meta({ description: 'Why FlowBot paused or failed it (the line needs re-authentication, …)' }),
  lineId: z.string().uuid(),
  phoneNumberId: z.string().nullable().meta({ description: "The line's phone number id (null if the line was removed)" }),
  message: z.object({
    type: z.literal('template'),
    name: z.string().optional(),
    templateId: z.string().optional(),
    templateGroupId: z.string().optional(),
    language: z.string(),
    params: z.array(z.string()),
  }),
  sourceRef: z.string().nullable(),
  recipientCount: z.number().int(),
  progress: progressSchema.meta({ description: 'Each recipient counted once, by where it stands now' }),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

const bulkSendResponse = z.object({
  success: z.literal(true),
  campaignId: z.string().uuid(),
  status: z.enum(campaignStatuses),
  recipients: z.number().int().meta({ description: 'Distinct recipients accepted' }),
  duplicates: z.number().int().meta({ description: 'Numbers given more than once, sent once' }),
  phoneNumberId: z.string().meta({ description: 'The line it goes out from' }),
  progressUrl: z.string(),
});

function present(c: Campaign, progress: CampaignProgress, phoneNumberId: string | null): z.infer<typeof campaignSchema> {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    statusReason: c.statusReason ?? null,
    lineId: c.lineId,
    phoneNumberId,
    message: c.message,
    sourceRef: c.sourceRef ?? null,
    recipientCount: c.recipientCount,
    progress,
    createdAt: iso(c.createdAt)!,
    updatedAt: iso(c.updatedAt)!,
    finishedAt: iso(c.finishedAt),
  };
}

async function presentAll(em: EntityManager, campaigns: Campaign[]) {
  const progress = await progressOf(em, campaigns.map((c) => c.id));
  const lines = campaigns.length ? await em.find(WhatsAppLine, { id: { $in: [...new Set(campaigns.map((c) => c.lineId))] } }, { fields: ['id', 'phoneNumberId'] }) : [];
  const phoneOf = new Map(lines.map((l) => [l.id, l.phoneNumberId]));
  return campaigns.map((c) => present(c, progress.get(c.id)!, phoneOf.get(c.lineId) ?? null));
}

export function campaignRoutes(deps: ApiDeps) {
  const control = (action: 'pause' | 'resume' | 'cancel', summary: string, description: string) =>
    route({
      method: 'post',
      path: `/api/campaigns/:id/${action}`,
      tag: 'Campaigns',
      summary,
      description,
      auth: 'user',
      params: idParams,
      responses: {
        200: { description: 'The campaign, with its new status', schema: campaignSchema },
        404: { description: 'No such campaign in your account' },
        409: { description: 'The campaign is in a state this does not apply to (it finished, or was cancelled)' },
      },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        const campaign = await controlCampaign(em, deps.temporal, { tenantId: principal!.tenantId, id: params.id, action }, ctx.state.log);
        return (await presentAll(em, [campaign]))[0];
      },
    });

  return [
    route({
      method: 'post',
      path: '/api/templates/bulk-send',
      tag: 'Campaigns',
      summary: 'Bulk send a template to many recipients (a campaign)',
      description:
        'Answers 202 at once with the campaign id; the campaign sends at the line\'s rate (80 messages/s unless the line says otherwise), ' +
        'skipping contacts who opted out. The line: `phoneNumberId`, else the template group\'s preferred line, else your primary line. ' +
        'An `Idempotency-Key` header makes a repeated request answer the same campaign.',
      auth: 'user',
      body: bulkSendBody,
      responses: {
        202: { description: 'Accepted: the campaign is running', schema: bulkSendResponse },
        404: { description: 'No such line, template or template group in your account' },
        503: { description: 'The campaign engine is unavailable; nothing was accepted' },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const accepted = await acceptBulkSend(
          em,
          deps.temporal,
          {
            tenantId: principal!.tenantId,
            createdBy: principal!.userId,
            name: body.name,
            templateName: body.templateName,
            templateId: body.templateId,
            templateGroupId: body.templateGroupId,
            language: body.language,
            params: body.params,
            phoneNumberId: body.phoneNumberId,
            recipients: body.recipients.map((r) => (typeof r === 'string' ? { phone: r } : r)),
            sourceRef: body.sourceRef,
            idempotencyKey: ctx.get('idempotency-key') || undefined,
          },
          deps.campaignTuning,
        );
        ctx.status = 202;
        return {
          success: true,
          campaignId: accepted.campaign.id,
          status: accepted.campaign.status,
          recipients: accepted.campaign.recipientCount,
          duplicates: accepted.duplicates,
          phoneNumberId: accepted.line.phoneNumberId,
          progressUrl: `/api/campaigns/${accepted.campaign.id}`,
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/campaigns',
      tag: 'Campaigns',
      summary: 'Your campaigns, newest first, with their progress',
      auth: 'user',
      query: pagination.extend({ status: z.enum(campaignStatuses).optional() }),
      responses: { 200: { description: 'A page of campaigns', schema: z.object({ campaigns: z.array(campaignSchema), total: z.number().int() }) } },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const { campaigns, total } = await listCampaigns(em, principal!.tenantId, query);
        return { campaigns: await presentAll(em, campaigns), total };
      },
    }),
    route({
      method: 'get',
      path: '/api/campaigns/:id',
      tag: 'Campaigns',
      summary: 'One campaign and its progress',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'The campaign', schema: campaignSchema }, 404: { description: 'No such campaign in your account' } },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        return (await presentAll(em, [await findCampaign(em, principal!.tenantId, params.id)]))[0];
      },
    }),
    control('pause', 'Pause a campaign', 'Stops claiming recipients at once; the few sends already under way finish. Resume continues where it stopped.'),
    control('resume', 'Resume a paused campaign', 'Also resumes a campaign FlowBot paused because its line could not send, once the line is fixed.'),
    control('cancel', 'Cancel a campaign', 'Recipients not sent to yet are skipped; the campaign cannot be resumed.'),
  ];
}
