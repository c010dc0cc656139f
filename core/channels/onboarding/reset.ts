import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { campaignNudgeSignal } from '../../campaigns/types';
import { Tenant, WhatsAppLine } from '../../db/entities';
import type { TemporalHandle } from '../../temporal/connect';
import { ChannelSendError } from '../errors';
import { decryptedAccessToken } from '../lines';
import { reasonOf, type OnboardingAccess } from './meta';
import { retireLines } from './retired-lines';

/**
 * Removes every WhatsApp line of the tenant before it connects again with Embedded Signup. Nothing else is
 * deleted: conversations and their messages stay (they name the line by id, which the same number gets back
 * when it is connected again, see retired-lines.ts); running campaigns on these lines are paused, saying why, to
 * be resumed once the number is back; journeys keep waiting, and one that tries to send before then fails as
 * for a deleted line. With `unsubscribe`, FlowBot's app also stops receiving the webhooks of the lines' WABAs,
 * except of a WABA another account still has lines in.
 */

export type WebhookOutcome = 'unsubscribed' | 'kept_shared' | 'failed';

export interface ResetResult {
  removedLines: Array<{ id: string; phoneNumberId: string; wabaId: string }>;
  pausedCampaignIds: string[];
  /** Only with `unsubscribe`: what became of each WABA's webhook subscription. */
  webhooks: Array<{ wabaId: string; outcome: WebhookOutcome; error?: string }>;
}

const pausedForReconnect = 'Paused: its WhatsApp line was removed to reconnect WhatsApp; resume the campaign once the number is connected again';

export async function resetLinesBeforeReconnect(
  em: EntityManager,
  access: OnboardingAccess,
  temporal: TemporalHandle,
  tenantId: string,
  opts: { unsubscribe: boolean },
  log?: { warn: (obj: object, msg: string) => void },
): Promise<ResetResult> {
  const before = await em.find(WhatsAppLine, { tenantId }, { orderBy: { isPrimary: 'desc', createdAt: 'asc', id: 'asc' } });
  const webhooks = opts.unsubscribe ? await unsubscribeWabas(em, access, tenantId, before) : [];

  const { removed, paused } = await em.transactional(async (tem) => {
    await tem.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const lines = await tem.find(WhatsAppLine, { tenantId });
    if (!lines.length) return { removed: [], paused: [] };
    const lineIds = `{${lines.map((l) => l.id).join(',')}}`;
    await retireLines(tem, tenantId, lines);
    const pausedRows = await tem.execute<Array<{ id: string; workflow_id: string }>>(
      `update campaigns set status = 'paused', status_reason = ?, updated_at = now()
        where tenant_id = ? and line_id = any(?::uuid[]) and status = 'running' returning id, workflow_id`,
      [pausedForReconnect, tenantId, lineIds],
    );
    await tem.execute(`delete from whatsapp_lines where tenant_id = ? and id = any(?::uuid[])`, [tenantId, lineIds]);
    return { removed: lines, paused: pausedRows };
  });

  for (const campaign of paused) {
    try {
      await temporal.client.workflow.getHandle(campaign.workflow_id).signal(campaignNudgeSignal);
    } catch (err) {
      // The campaign looks at its status on its own within a minute; it is paused either way.
      log?.warn({ err, campaignId: campaign.id }, 'could not nudge the campaign workflow');
    }
  }
  return {
    removedLines: removed.map((l) => ({ id: l.id, phoneNumberId: l.phoneNumberId, wabaId: l.wabaId })),
    pausedCampaignIds: paused.map((c) => c.id),
    webhooks,
  };
}

/** Best effort: the lines are removed whatever Meta answers; its answer is reported. */
async function unsubscribeWabas(em: EntityManager, access: OnboardingAccess, tenantId: string, lines: WhatsAppLine[]): Promise<ResetResult['webhooks']> {
  const outcomes: ResetResult['webhooks'] = [];
  for (const wabaId of [...new Set(lines.map((l) => l.wabaId))]) {
    if ((await em.count(WhatsAppLine, { wabaId, tenantId: { $ne: tenantId } })) > 0) {
      outcomes.push({ wabaId, outcome: 'kept_shared' });
      continue;
    }
    const line = lines.find((l) => l.wabaId === wabaId && l.status === 'active') ?? lines.find((l) => l.wabaId === wabaId)!;
    try {
      await access.client.unsubscribeApp({ wabaId, accessToken: decryptedAccessToken(line, access.box) });
      outcomes.push({ wabaId, outcome: 'unsubscribed' });
    } catch (err) {
      if (!(err instanceof ChannelSendError)) throw err;
      outcomes.push({ wabaId, outcome: 'failed', error: reasonOf(err) });
    }
  }
  return outcomes;
}
