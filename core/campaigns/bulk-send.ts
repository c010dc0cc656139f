import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { campaign as campaignWorkflow } from '../../workflows/campaign/campaign';
import { primaryLine } from '../channels/lines';
import { Campaign, WhatsAppLine, type CampaignMessage } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { searchAttributes as sa } from '../temporal/search-attributes';
import type { TemporalHandle } from '../temporal/connect';
import { campaignWorkflowId } from '../temporal/workflow-ids';
import { resolveTemplateReference } from '../templates/resolve';
import { contactOf } from '../triggers/prepare';
import type { CampaignTuning } from './types';

const START_TIMEOUT_MS = 5_000;

export interface BulkRecipient {
  phone: string;
  params?: string[];
}

export interface BulkSendRequest {
  tenantId: string;
  createdBy?: string;
  name?: string;
  templateName?: string;
  templateId?: string;
  templateGroupId?: string;
  language?: string;
  /** Body parameters for recipients that bring none. */
  params?: string[];
  /** Meta's phone number id of the line to send from; see lineForBulkSend. */
  phoneNumberId?: string;
  recipients: BulkRecipient[];
  sourceRef?: string;
  idempotencyKey?: string;
}

export interface BulkSendAccepted {
  campaign: Campaign;
  line: WhatsAppLine;
  /** Recipients given twice (the same number), sent once. */
  duplicates: number;
  /** True when the idempotency key named a campaign created before: nothing new was started. */
  repeated: boolean;
}

/**
 * The line a bulk send goes out from, exactly as the seed orders it: the caller's `phoneNumberId`, else the
 * template group's preferred line, else the tenant's primary line.
 */
export async function lineForBulkSend(em: EntityManager, tenantId: string, phoneNumberId: string | undefined, groupLine: WhatsAppLine | null): Promise<WhatsAppLine> {
  if (phoneNumberId) {
    const line = await em.findOne(WhatsAppLine, { tenantId, phoneNumberId });
    if (!line) throw notFound(`WhatsApp line with phone number id ${phoneNumberId}`);
    return line;
  }
  const line = groupLine ?? (await primaryLine(em, tenantId));
  if (!line) throw new AppError('invalid', 'No WhatsApp line is configured: add one in Settings → WhatsApp');
  return line;
}

/** Digits-only contacts, first occurrence of each; a bad number is a 400 that names its position. */
function normalizedRecipients(recipients: BulkRecipient[]): { rows: Array<{ contact: string; params: string[] }>; duplicates: number } {
  const seen = new Set<string>();
  const rows: Array<{ contact: string; params: string[] }> = [];
  recipients.forEach((r, i) => {
    let contact: string;
    try {
      contact = contactOf(r.phone);
    } catch (err) {
      throw new AppError('invalid', `Invalid body: recipients.${i}.phone: ${(err as Error).message.replace(/^phone: /, '')}`);
    }
    if (seen.has(contact)) return;
    seen.add(contact);
    rows.push({ contact, params: r.params ?? [] });
  });
  return { rows, duplicates: recipients.length - rows.length };
}

/**
 * Accepts a bulk send: the campaign and its recipients are written in one transaction, then its workflow is
 * started (id `campaign/<tenant>/<campaign>`). The API answers at once; the workflow sends at the line's
 * governed rate. If the workflow cannot be started the campaign is removed again and the caller gets a 503:
 * nothing half-accepted.
 */
export async function acceptBulkSend(
  em: EntityManager,
  temporal: TemporalHandle,
  req: BulkSendRequest,
  tuning?: Partial<CampaignTuning>,
): Promise<BulkSendAccepted> {
  if (req.idempotencyKey) {
    const earlier = await em.findOne(Campaign, { tenantId: req.tenantId, idempotencyKey: req.idempotencyKey });
    if (earlier) return { campaign: earlier, line: await em.findOneOrFail(WhatsAppLine, { id: earlier.lineId }), duplicates: 0, repeated: true };
  }
  const reference = req.templateGroupId || req.templateId ? await resolveTemplateReference(em, req.tenantId, { templateGroupId: req.templateGroupId, templateId: req.templateId }) : undefined;
  const line = await lineForBulkSend(em, req.tenantId, req.phoneNumberId, reference?.preferredLine ?? null);
  if (line.status !== 'active') throw new AppError('invalid', `The line ${line.displayPhoneNumber || line.phoneNumberId} is ${line.status}: it cannot send`);
  const { rows, duplicates } = normalizedRecipients(req.recipients);

  const message: CampaignMessage = {
    type: 'template',
    ...(req.templateGroupId ? { templateGroupId: req.templateGroupId } : req.templateId ? { templateId: req.templateId } : { name: req.templateName }),
    language: req.language ?? reference?.templates[0]?.language ?? 'en',
    params: req.params ?? [],
  };
  const id = newId();
  const workflowId = campaignWorkflowId(req.tenantId, id);
  let campaign: Campaign;
  try {
    campaign = await em.transactional(async (tem) => {
      const created = tem.create(Campaign, {
        id,
        tenantId: req.tenantId,
        lineId: line.id,
        name: req.name ?? `${message.name ?? 'Template'} to ${rows.length} recipients`,
        message,
        sourceRef: req.sourceRef ?? null,
        idempotencyKey: req.idempotencyKey ?? null,
        createdBy: req.createdBy ?? null,
        recipientCount: rows.length,
        workflowId,
      });
      await tem.flush();
      // tem.execute runs in the transaction (the connection's execute would not see the campaign row).
      await tem.execute(
        `insert into campaign_recipients (campaign_id, tenant_id, contact, params)
         select ?, ?, r.contact, r.params from jsonb_to_recordset(?::jsonb) as r(n integer, contact text, params jsonb)
         order by r.n`,
        [id, req.tenantId, JSON.stringify(rows.map((r, n) => ({ n, ...r })))],
      );
      return created;
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException && req.idempotencyKey) {
      // The same key, at the same moment, from another request: answer that campaign.
      const earlier = await em.fork().findOneOrFail(Campaign, { tenantId: req.tenantId, idempotencyKey: req.idempotencyKey });
      return { campaign: earlier, line, duplicates: 0, repeated: true };
    }
    throw err;
  }

  try {
    await temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () => temporal.client.workflow.start<typeof campaignWorkflow>('campaign', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [{ tenantId: req.tenantId, campaignId: id, ...(tuning ? { tuning } : {}) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: sa.TenantId, value: req.tenantId },
        { key: sa.Channel, value: 'whatsapp' },
        { key: sa.LineId, value: line.id },
        { key: sa.CampaignId, value: id },
      ],
    }));
  } catch (err) {
    await em.fork().getConnection().execute(`delete from campaigns where id = ?`, [id]);
    throw new AppError('unavailable', `The campaign engine is unavailable; nothing was accepted, retry later (${(err as Error).message.split('\n')[0]})`);
  }
  return { campaign, line, duplicates, repeated: false };
}
