import { setTimeout as sleep } from 'node:timers/promises';
import { signatureHeaders } from './signing';
import type { RecordedWebhook, SimulatorState } from './state';

/**
 * Posts webhooks the way Meta does: signed with the app secret, retried with growing delays while the
 * receiver answers anything but 200, and, when asked, delivered a second time. Each delivery is recorded.
 */
export class WebhookPoster {
  constructor(
    private readonly state: SimulatorState,
    /** The Meta app's secret: it signs webhooks, and the code exchange checks it (onboarding.ts). */
    readonly appSecret: string,
  ) {}

  /** Resolves once the webhook (and its duplicate, if configured) was delivered or retries ran out. */
  async post(kind: string, body: unknown, messageId?: string): Promise<RecordedWebhook> {
    const raw = JSON.stringify(body);
    const first = await this.deliver(kind, body, raw, messageId, false);
    if (this.state.config.duplicateWebhooks) await this.deliver(kind, body, raw, messageId, true);
    return first;
  }

  private async deliver(kind: string, body: unknown, raw: string, messageId: string | undefined, duplicate: boolean): Promise<RecordedWebhook> {
    const headers = signatureHeaders(raw, this.appSecret);
    const record: RecordedWebhook = {
      seq: this.state.nextWebhookSeq(),
      kind,
      ...(messageId ? { messageId } : {}),
      duplicate,
      body,
      signature: headers['x-hub-signature-256'],
      attempts: [],
      delivered: false,
    };
    this.state.webhooks.push(record);
    const { webhookUrl, webhookRetries, webhookRetryDelayMs } = this.state.config;
    if (!webhookUrl) return record;
    for (let attempt = 0; attempt <= webhookRetries && !record.delivered; attempt++) {
      if (attempt > 0) await sleep(webhookRetryDelayMs * 2 ** (attempt - 1));
      const at = new Date().toISOString();
      try {
        const res = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'facebookexternalua', ...headers },
          body: raw,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        record.attempts.push({ at, status: res.status });
        record.delivered = res.status === 200;
      } catch (err) {
        record.attempts.push({ at, error: err instanceof Error ? String(err.cause ?? err.message) : String(err) });
      }
    }
    return record;
  }
}
