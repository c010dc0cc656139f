import type { MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { channelErrorOf } from '../../core/channels/errors';
import { optOut } from '../../core/contacts/opt-out';
import type { CampaignMessage, CampaignStatus } from '../../core/db/entities';
import type { CampaignActivities, PageResult } from '../../core/campaigns/types';
import { campaignSendKey, recoverInterruptedSends, settleInDoubt } from '../../core/campaigns/unsettled';
import type { OutboundSend } from '../../core/journey/types';

/** The idempotent send of activities/journey/send-message.ts: message row first, at most one provider call per key. */
export type SendFn = (input: OutboundSend) => Promise<{ messageId: string; providerMessageId: string | null }>;

type Conn = ReturnType<MikroORM['em']['getConnection']>;

/** Retryable errors (5xx, rate limits) a recipient may meet before it counts as failed. */
const MAX_ATTEMPTS = 10;
/** Unexpected errors in a row (the database is down, …) after which the page gives up and Temporal retries it. */
const MAX_UNEXPECTED_IN_A_ROW = 20;
const HEARTBEAT_MS = 1_000;
/**
 * Sends in progress hold the line's next slots; this many seconds of them at most, so that a pause takes
 * effect, and a journey's reply on the same line gets a slot, within about this long.
 */
const SLOT_HORIZON_S = 0.3;
/** Meta: the recipient stopped marketing messages from this business. */
const MARKETING_STOPPED = 131050;

interface CampaignRow {
  id: string;
  tenant_id: string;
  line_id: string;
  status: CampaignStatus;
  message: CampaignMessage;
  source_ref: string | null;
  /** The line's rate; null when the line is gone. */
  rate_per_second: number | null;
}

interface Claimed {
  id: string;
  contact: string;
  params: string[];
  attempts: number;
}

type Outcome =
  | { state: 'sent'; messageId: string }
  | { state: 'failed'; error: string }
  | { state: 'pending'; error: string; retryInMs: number }
  | { state: 'in_doubt'; error: string };

const backoffMs = (attempts: number) => Math.min(60_000, 1_000 * 2 ** Math.max(0, attempts - 1));
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

function inActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

async function loadCampaign(conn: Conn, id: string): Promise<CampaignRow | undefined> {
  const [row] = await conn.execute<CampaignRow[]>(
    `select c.id, c.tenant_id, c.line_id, c.status, c.message, c.source_ref, l.rate_per_second
     from campaigns c left join whatsapp_lines l on l.id = c.line_id where c.id = ?`,
    [id],
  );
  return row;
}

/**
 * Takes up to `limit` due recipients in order: opted-out ones become skipped at once, the others `sending`
 * (one more attempt). `skip locked`: two pages of one campaign (a presumed-dead attempt that is not) never
 * take the same recipient.
 */
async function claim(conn: Conn, campaignId: string, limit: number): Promise<{ toSend: Claimed[]; skipped: number }> {
  const rows = await conn.execute<Array<Claimed & { state: string }>>(
    `update campaign_recipients r set
       state = case when x.opted_out then 'skipped' else 'sending' end,
       skip_reason = case when x.opted_out then 'opted_out' end,
       attempts = r.attempts + case when x.opted_out then 0 else 1 end,
       updated_at = now()
     from (
       select p.id, exists (select 1 from contact_opt_outs o where o.tenant_id = p.tenant_id and o.contact = p.contact) as opted_out
       from campaign_recipients p
       where p.campaign_id = ? and p.state = 'pending' and (p.not_before is null or p.not_before <= now())
       order by p.id limit ? for update skip locked
     ) x
     where r.id = x.id
     returning r.id, r.contact, r.params, r.attempts, r.state`,
    [campaignId, limit],
  );
  const toSend = rows.filter((r) => r.state === 'sending').sort((a, b) => Number(a.id) - Number(b.id));
  return { toSend, skipped: rows.length - toSend.length };
}

async function record(conn: Conn, campaignId: string, recipientId: string, outcome: Outcome): Promise<void> {
  await conn.execute(
    `update campaign_recipients set state = ?, message_id = coalesce(?::uuid, (select id from messages where idempotency_key = ?)),
       last_error = ?, not_before = case when ? then now() + make_interval(secs => ?::float8 / 1000) end, updated_at = now()
     where id = ?`,
    [
      outcome.state,
      outcome.state === 'sent' ? outcome.messageId : null,
      campaignSendKey(campaignId, recipientId),
      outcome.state === 'sent' ? null : outcome.error,
      outcome.state === 'pending',
      outcome.state === 'pending' ? outcome.retryInMs : 0,
      recipientId,
    ],
  );
}

async function pageResult(conn: Conn, campaignId: string, partial: Omit<PageResult, 'status' | 'remaining' | 'unsettled' | 'nextDueInMs'>): Promise<PageResult> {
  const [row] = await conn.execute<Array<{ status: CampaignStatus | null; remaining: string; due: string; unsettled: string; next_due_ms: number | null }>>(
    `select (select status from campaigns where id = ?) as status,
       count(*) filter (where state = 'pending') as remaining,
       count(*) filter (where state = 'pending' and (not_before is null or not_before <= now())) as due,
       count(*) filter (where state in ('sending', 'in_doubt')) as unsettled,
       (extract(epoch from min(not_before) filter (where state = 'pending') - now()) * 1000)::float8 as next_due_ms
     from campaign_recipients where campaign_id = ?`,
    [campaignId, campaignId],
  );
  const remaining = Number(row.remaining);
  const waiting = remaining > 0 && Number(row.due) === 0 && row.next_due_ms !== null;
  return {
    ...partial,
    status: row.status ?? 'cancelled',
    remaining,
    unsettled: Number(row.unsettled),
    ...(waiting ? { nextDueInMs: Math.max(0, Math.ceil(row.next_due_ms!)) } : {}),
  };
}

/** What one send's failure means for its recipient and for the campaign. */
function outcomeOf(err: unknown, attempts: number): { outcome: Outcome; pauseCampaign?: string; failCampaign?: string; optedOut?: boolean } {
  const failure = err instanceof ApplicationFailure ? err : undefined;
  const channel = channelErrorOf(err);
  const message = errorText(err);
  if (!failure) return { outcome: { state: 'pending', error: message, retryInMs: backoffMs(attempts) } };
  if (!failure.nonRetryable) {
    // Transient or rate-limited: the governor slowed the line down already; try this recipient again later.
    if (channel?.maybeSent) return { outcome: { state: 'in_doubt', error: message } };
    if (attempts >= MAX_ATTEMPTS) return { outcome: { state: 'failed', error: `Gave up after ${attempts} attempts: ${message}` } };
    const hint = typeof failure.nextRetryDelay === 'number' ? failure.nextRetryDelay : 0;
    return { outcome: { state: 'pending', error: message, retryInMs: Math.max(hint, backoffMs(attempts)) } };
  }
  if (failure.type === 'line_missing') return { outcome: { state: 'pending', error: message, retryInMs: 0 }, failCampaign: `The campaign's line no longer exists: ${message}` };
  if (failure.type === 'line_unavailable' || channel?.errorClass === 'credentials' || channel?.errorClass === 'account') {
    return { outcome: { state: 'failed', error: message }, pauseCampaign: `Paused: the line cannot send (${message}); fix the line, then resume the campaign` };
  }
  return { outcome: { state: 'failed', error: message }, optedOut: channel?.code === MARKETING_STOPPED };
}

export function campaignActivities(deps: { orm: MikroORM; sendMessage: SendFn }): CampaignActivities {
  return {
    /**
     * Sends up to `maxRecipients` recipients of the campaign, a few at a time (at most `concurrency`, about
     * SLOT_HORIZON_S of the line's slots), each through the idempotent send, which the line's governor paces.
     * Stops early when the campaign's status is no longer running. First settles what a killed predecessor
     * left `sending`. Safe to run again: a recipient is claimed once, and its message key makes a repeated
     * send find the message instead of sending it again.
     */
    async runCampaignPage({ campaignId, maxRecipients, concurrency }): Promise<PageResult> {
      const conn = deps.orm.em.getConnection();
      const counts = { claimed: 0, sent: 0, failed: 0, skipped: 0, retried: 0 };
      const campaign = await loadCampaign(conn, campaignId);
      if (!campaign) return { status: 'cancelled', ...counts, remaining: 0, unsettled: 0 };
      await recoverInterruptedSends(conn, campaignId);
      if (campaign.status !== 'running') return pageResult(conn, campaignId, counts);

      const lanes = Math.max(1, Math.min(concurrency, Math.ceil((campaign.rate_per_second ?? 1) * SLOT_HORIZON_S)));
      const activity = inActivity();
      const buffer: Claimed[] = [];
      let exhausted = false;
      let stopped = false;
      let fatal: unknown;
      let unexpectedInARow = 0;
      let refilling: Promise<void> | undefined;

      const stop = () => void (stopped = true);
      activity?.cancellationSignal.addEventListener('abort', stop);
      const heartbeat = setInterval(() => activity?.heartbeat({ claimed: counts.claimed, sent: counts.sent }), HEARTBEAT_MS);

      const refill = (): Promise<void> =>
        (refilling ??= (async () => {
          const room = Math.min(lanes * 2, maxRecipients - counts.claimed);
          const [row] = await conn.execute<Array<{ status: CampaignStatus }>>(`select status from campaigns where id = ?`, [campaignId]);
          if (row?.status !== 'running') return stop();
          if (room <= 0) return void (exhausted = true);
          const { toSend, skipped } = await claim(conn, campaignId, room);
          counts.claimed += toSend.length + skipped;
          counts.skipped += skipped;
          buffer.push(...toSend);
          if (toSend.length + skipped === 0) exhausted = true;
        })()
          .catch((err) => {
            fatal ??= err;
            stop();
          })
          .finally(() => (refilling = undefined)));

      const next = async (): Promise<Claimed | undefined> => {
        for (;;) {
          if (stopped) return undefined;
          if (buffer.length <= lanes && !exhausted) void refill();
          if (buffer.length) return buffer.shift();
          if (exhausted) return undefined;
          await refill();
        }
      };

      const sendOne = async (r: Claimed): Promise<void> => {
        const message = { ...campaign.message, params: r.params.length ? r.params : campaign.message.params };
        let verdict: ReturnType<typeof outcomeOf>;
        try {
          const sent = await deps.sendMessage({
            key: { tenantId: campaign.tenant_id, channel: 'whatsapp', lineId: campaign.line_id, contact: r.contact },
            idempotencyKey: campaignSendKey(campaignId, r.id),
            sentBy: 'campaign',
            campaignId,
            sourceRef: campaign.source_ref ?? undefined,
            message,
          });
          verdict = { outcome: { state: 'sent', messageId: sent.messageId } };
          unexpectedInARow = 0;
        } catch (err) {
          verdict = outcomeOf(err, r.attempts);
          unexpectedInARow = err instanceof ApplicationFailure ? 0 : unexpectedInARow + 1;
          if (unexpectedInARow >= MAX_UNEXPECTED_IN_A_ROW) {
            fatal ??= err;
            stop();
          }
        }
        await record(conn, campaignId, r.id, verdict.outcome);
        const state = verdict.outcome.state;
        if (state === 'sent') counts.sent++;
        else if (state === 'failed') counts.failed++;
        else counts.retried++;
        if (verdict.optedOut) await optOut(deps.orm.em.fork(), { tenantId: campaign.tenant_id, contact: r.contact, source: 'provider_error', detail: verdict.outcome.state === 'failed' ? verdict.outcome.error : null });
        const reason = verdict.failCampaign ?? verdict.pauseCampaign;
        if (reason) {
          await conn.execute(`update campaigns set status = ?, status_reason = ?, updated_at = now() where id = ? and status = 'running'`, [
            verdict.failCampaign ? 'failed' : 'paused',
            reason.slice(0, 1000),
            campaignId,
          ]);
          stop();
        }
      };

      try {
        // A lane that fails stops the others, which finish the send they hold: none runs on after the page ends.
        await Promise.all(
          Array.from({ length: lanes }, async () => {
            try {
              for (let r = await next(); r; r = await next()) await sendOne(r);
            } catch (err) {
              fatal ??= err;
              stop();
            }
          }),
        );
        await refilling;
      } finally {
        clearInterval(heartbeat);
        activity?.cancellationSignal.removeEventListener('abort', stop);
        // Claimed but not started: back to the queue, as if never claimed.
        if (buffer.length) {
          await conn.execute(
            `update campaign_recipients set state = 'pending', attempts = greatest(attempts - 1, 0), updated_at = now()
             where id = any(string_to_array(?, ',')::bigint[]) and state = 'sending'`,
            [buffer.map((r) => r.id).join(',')],
          );
          counts.claimed -= buffer.length;
          buffer.length = 0;
        }
      }
      if (fatal) throw fatal;
      return pageResult(conn, campaignId, counts);
    },

    async settleCampaignSends({ campaignId, graceMs }) {
      return { unsettled: await settleInDoubt(deps.orm.em.getConnection(), campaignId, graceMs) };
    },

    /** Ends the campaign; recipients never sent to (cancelled, failed) are counted as skipped. Idempotent. */
    async finishCampaign({ campaignId, outcome, reason }) {
      const conn = deps.orm.em.getConnection();
      if (outcome !== 'completed') {
        await conn.execute(`update campaign_recipients set state = 'skipped', skip_reason = ?, updated_at = now() where campaign_id = ? and state = 'pending'`, [
          outcome,
          campaignId,
        ]);
      }
      await conn.execute(
        `update campaigns set status = case when status in ('running', 'paused') then ? else status end,
           status_reason = coalesce(?, status_reason), finished_at = coalesce(finished_at, now()), updated_at = now()
         where id = ?`,
        [outcome, reason ?? null, campaignId],
      );
    },
  };
}
