/**
 * What crosses the boundary between the API, the campaign workflow and its activities. Types only, so the
 * workflow can import them without pulling in I/O.
 */
import type { CampaignStatus } from '../db/entities/campaign';

export interface CampaignTuning {
  /** Recipients one page activity sends before the workflow continues as new. */
  pageSize: number;
  /** Most sends of one page in progress at once (a slow line gets fewer); the line's governor paces them. */
  concurrency: number;
  /** A page activity silent for this long is presumed dead (its worker was killed) and retried elsewhere. */
  heartbeatTimeoutMs: number;
  /**
   * A send whose outcome a crash hid waits this long for the provider's status webhook (which settles it as
   * sent) before it is sent again.
   */
  inDoubtGraceMs: number;
  /** While paused, or waiting for retries and doubtful sends, the workflow looks again this often. */
  recheckMs: number;
}

export const defaultCampaignTuning: CampaignTuning = {
  pageSize: 2_000,
  concurrency: 24,
  heartbeatTimeoutMs: 10_000,
  inDoubtGraceMs: 120_000,
  recheckMs: 60_000,
};

export interface CampaignInput {
  tenantId: string;
  campaignId: string;
  tuning?: Partial<CampaignTuning>;
}

export interface PageResult {
  /** The campaign's status when the page ended. */
  status: CampaignStatus;
  /** Recipients this page took up (sent, failed, skipped or put back for a retry). */
  claimed: number;
  sent: number;
  failed: number;
  skipped: number;
  retried: number;
  /** Recipients still pending after the page. */
  remaining: number;
  /** Sends whose outcome is not known yet (in doubt after a crash, or still waiting for an answer). */
  unsettled: number;
  /** When pending recipients wait for a retry: milliseconds until the first is due. */
  nextDueInMs?: number;
}

export interface CampaignActivities {
  runCampaignPage(input: { campaignId: string; maxRecipients: number; concurrency: number }): Promise<PageResult>;
  /** Settles doubtful sends: sent when the provider's status named them, sent again after the grace. */
  settleCampaignSends(input: { campaignId: string; graceMs: number }): Promise<{ unsettled: number }>;
  finishCampaign(input: { campaignId: string; outcome: 'completed' | 'cancelled' | 'failed'; reason?: string }): Promise<void>;
}

/** The signal that wakes a waiting campaign workflow after the API paused, resumed or cancelled it. */
export const campaignNudgeSignal = 'nudge';
