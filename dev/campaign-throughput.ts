import { setTimeout as sleep } from 'node:timers/promises';
import { pacingOf, type PacingReport } from '../core/campaigns/throughput';

/**
 * Campaign throughput against a running stack and its WhatsApp simulator, for the benchmark: one bulk send
 * per line, all at once, each measured from the simulator's side as a ratio of the line's configured rate
 * (target: at least 0.95 with zero rate errors), plus the time from the API call to the line's first send.
 * The simulator is set to enforce `rateLimitPerSecond` (the lowest of the lines' rates) for the run.
 */

export interface ThroughputLine {
  /** Meta's phone number id of a line of the tenant, on the simulator. */
  phoneNumberId: string;
  /** The line's configured rate (PUT /api/settings/whatsapp/{id} {ratePerSecond}). */
  ratePerSecond: number;
}

export interface LineThroughput extends PacingReport {
  phoneNumberId: string;
  campaignId: string;
  /** From the bulk-send call to the first message the simulator received from the line. */
  firstSendMs: number;
  /** Sends the simulator refused with 130429 (throughput) or 131056 (pair rate). */
  rateErrors: number;
}

export async function measureCampaignThroughput(opts: {
  apiUrl: string;
  /** How the calls authenticate: `{ authorization: 'Bearer …' }` or `{ cookie: 'wdf_token=…' }`. */
  auth: Record<string, string>;
  simUrl: string;
  lines: ThroughputLine[];
  recipientsPerLine: number;
  templateName?: string;
  timeoutMs?: number;
}): Promise<LineThroughput[]> {
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const sim = (method: string, route: string, body?: unknown) => call(method, `${opts.simUrl}/_sim/${route}`, body);
  const api = (method: string, route: string, body?: unknown) => call(method, `${opts.apiUrl}${route}`, body, opts.auth);

  await sim('POST', 'config', { rateLimitPerSecond: Math.min(...opts.lines.map((l) => l.ratePerSecond)) });
  await sim('DELETE', 'messages');
  const runTag = `${Date.now() % 1_000_000}`.padStart(6, '0');
  const started = await Promise.all(
    opts.lines.map(async (line, l) => {
      const recipients = Array.from({ length: opts.recipientsPerLine }, (_, i) => `+972${l % 10}${runTag}${String(i).padStart(5, '0')}`);
      const calledAt = Date.now();
      const accepted = await api('POST', '/api/templates/bulk-send', { templateName: opts.templateName ?? 'bench_offer', phoneNumberId: line.phoneNumberId, recipients });
      return { line, calledAt, campaignId: accepted.campaignId as string };
    }),
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  for (const s of started) {
    for (;;) {
      const campaign = await api('GET', `/api/campaigns/${s.campaignId}`);
      if (['completed', 'cancelled', 'failed'].includes(campaign.status)) break;
      if (Date.now() > deadline) throw new Error(`campaign ${s.campaignId} did not finish in time`);
      await sleep(250);
    }
  }
  const rejections: Array<{ phoneNumberId: string; code: number }> = await sim('GET', 'rejections');
  return Promise.all(
    started.map(async (s) => {
      const messages: Array<{ receivedAt: string }> = await sim('GET', `messages?phoneNumberId=${encodeURIComponent(s.line.phoneNumberId)}`);
      const times = messages.map((m) => Date.parse(m.receivedAt));
      return {
        phoneNumberId: s.line.phoneNumberId,
        campaignId: s.campaignId,
        ...pacingOf(times, s.line.ratePerSecond),
        firstSendMs: times.length ? Math.min(...times) - s.calledAt : NaN,
        rateErrors: rejections.filter((r) => r.phoneNumberId === s.line.phoneNumberId && (r.code === 130429 || r.code === 131056)).length,
      };
    }),
  );
}
