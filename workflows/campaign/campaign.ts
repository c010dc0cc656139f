import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { campaignNudgeSignal, defaultCampaignTuning, type CampaignActivities, type CampaignInput } from '../../core/campaigns/types';

/** Sent by the API after it changed the campaign's status, so a waiting campaign looks at once. */
export const nudgeSignal = defineSignal(campaignNudgeSignal);

/** Short look-again interval while only doubtful sends or near retries are left. */
const SETTLE_POLL_MS = 2_000;

/**
 * One campaign (bulk send). The recipients live in PostgreSQL, never in this history: each round runs one
 * page activity that claims recipients in order, sends each through the idempotent send path at the line's
 * governed rate (key `campaign/<campaignId>/<recipientId>`) and records the outcome on the recipient; then the
 * workflow continues as new, so its history stays a few events long however many recipients there are.
 *
 * The campaign row's status is the control: the API sets paused / running / cancelled there and nudges this
 * workflow; the page activity stops claiming as soon as it sees a change. A killed worker costs nothing but
 * time: the page activity stops heartbeating, Temporal runs it again elsewhere, and it first settles the
 * sends its predecessor left half-done (see activities/campaign/page.ts).
 */
export async function campaign(input: CampaignInput): Promise<void> {
  const tuning = { ...defaultCampaignTuning, ...input.tuning };
  const { campaignId } = input;
  let nudged = false;
  setHandler(nudgeSignal, () => void (nudged = true));
  const waitUpTo = async (ms: number): Promise<void> => {
    nudged = false;
    await condition(() => nudged, Math.max(50, ms));
  };

  const pages = proxyActivities<Pick<CampaignActivities, 'runCampaignPage'>>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: tuning.heartbeatTimeoutMs,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const act = proxyActivities<Omit<CampaignActivities, 'runCampaignPage'>>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  for (;;) {
    const page = await pages.runCampaignPage({ campaignId, maxRecipients: tuning.pageSize, concurrency: tuning.concurrency });
    if (page.status === 'cancelled' || page.status === 'failed') return act.finishCampaign({ campaignId, outcome: page.status });
    if (page.status === 'completed') return;
    if (page.status === 'paused') {
      await waitUpTo(tuning.recheckMs);
    } else if (page.remaining === 0 && page.unsettled === 0) {
      return act.finishCampaign({ campaignId, outcome: 'completed' });
    } else if (page.claimed === 0) {
      // Nothing to send right now: retries not due yet, or sends whose outcome is still unknown.
      const { unsettled } = page.unsettled ? await act.settleCampaignSends({ campaignId, graceMs: tuning.inDoubtGraceMs }) : { unsettled: 0 };
      if (page.remaining > 0 || unsettled > 0) await waitUpTo(Math.min(page.nextDueInMs ?? SETTLE_POLL_MS, SETTLE_POLL_MS));
    }
    const info = workflowInfo();
    if (page.claimed > 0 || info.continueAsNewSuggested || info.historyLength > 1_000) await continueAsNew<typeof campaign>(input);
  }
}
