import type { EntityManager } from '@mikro-orm/postgresql';
import { Campaign, type CampaignStatus } from '../db/entities';
import { AppError, notFound } from '../errors';
import type { TemporalHandle } from '../temporal/connect';
import { campaignNudgeSignal } from './types';

/**
 * Where each recipient of a campaign stands, every recipient counted once: queued (not sent yet, or its
 * outcome not known yet), sent, delivered, read (its message's latest status), failed (refused by the
 * provider, or failed after it was sent), skipped (opted out, or the campaign was cancelled first).
 */
export interface CampaignProgress {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
  /** Of the skipped: recipients who had opted out. */
  optedOut: number;
}

const emptyProgress = (): CampaignProgress => ({ total: 0, queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0, optedOut: 0 });

/** Progress of several campaigns in one query. */
export async function progressOf(em: EntityManager, campaignIds: string[]): Promise<Map<string, CampaignProgress>> {
  const result = new Map(campaignIds.map((id) => [id, emptyProgress()]));
  if (!campaignIds.length) return result;
  const rows = await em.getConnection().execute<Array<{ campaign_id: string; bucket: keyof CampaignProgress; opted_out: boolean; n: string }>>(
    `select r.campaign_id,
       case when r.state = 'skipped' then 'skipped'
            when r.state = 'failed' then 'failed'
            when r.state = 'sent' and m.status in ('sent', 'delivered', 'read', 'failed') then m.status
            else 'queued' end as bucket,
       coalesce(r.skip_reason = 'opted_out', false) as opted_out,
       count(*) as n
     from campaign_recipients r left join messages m on m.id = r.message_id
     where r.campaign_id = any(string_to_array(?, ',')::uuid[])
     group by 1, 2, 3`,
    [campaignIds.join(',')],
  );
  for (const row of rows) {
    const p = result.get(row.campaign_id)!;
    const n = Number(row.n);
    p[row.bucket] += n;
    p.total += n;
    if (row.opted_out) p.optedOut += n;
  }
  return result;
}

export async function findCampaign(em: EntityManager, tenantId: string, id: string): Promise<Campaign> {
  const campaign = await em.findOne(Campaign, { id, tenantId });
  if (!campaign) throw notFound('Campaign');
  return campaign;
}

export async function listCampaigns(
  em: EntityManager,
  tenantId: string,
  opts: { limit: number; offset: number; status?: CampaignStatus },
): Promise<{ campaigns: Campaign[]; total: number }> {
  const where = { tenantId, ...(opts.status ? { status: opts.status } : {}) };
  const [campaigns, total] = await em.findAndCount(Campaign, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: opts.limit, offset: opts.offset });
  return { campaigns, total };
}

/** Which status each control moves a campaign from, and to. */
const transitions: Record<'pause' | 'resume' | 'cancel', { from: CampaignStatus[]; to: CampaignStatus }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['running', 'paused'], to: 'cancelled' },
};

/**
 * Pauses, resumes or cancels a campaign of the tenant. The campaign row is the control: the running page of
 * the workflow stops claiming recipients as soon as it sees the change (sends already under way finish), and
 * the workflow is nudged so that a waiting one looks at once. Repeating a control that already holds answers
 * the campaign as it is; one that cannot apply (resume a cancelled campaign) is a 409.
 */
export async function controlCampaign(
  em: EntityManager,
  temporal: TemporalHandle,
  req: { tenantId: string; id: string; action: 'pause' | 'resume' | 'cancel' },
  log?: { warn: (obj: object, msg: string) => void },
): Promise<Campaign> {
  const { from, to } = transitions[req.action];
  const campaign = await findCampaign(em, req.tenantId, req.id);
  if (campaign.status !== to) {
    const changed = await em.getConnection().execute<Array<{ id: string }>>(
      `update campaigns set status = ?, status_reason = null, updated_at = now() where id = ? and tenant_id = ? and status = any(string_to_array(?, ',')) returning id`,
      [to, campaign.id, req.tenantId, from.join(',')],
    );
    await em.refresh(campaign);
    if (!changed.length && campaign.status !== to) {
      throw new AppError('conflict', `The campaign is ${campaign.status}: it cannot be ${req.action === 'pause' ? 'paused' : req.action === 'resume' ? 'resumed' : 'cancelled'}`);
    }
  }
  try {
    await temporal.client.workflow.getHandle(campaign.workflowId).signal(campaignNudgeSignal);
  } catch (err) {
    // The workflow looks at the status on its own within a minute; the change is made either way.
    log?.warn({ err, campaignId: campaign.id }, 'could not nudge the campaign workflow');
  }
  return campaign;
}
