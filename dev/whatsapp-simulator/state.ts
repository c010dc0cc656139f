import { randomBytes } from 'node:crypto';
import { RandomFailureSource, type FailureRates } from './random-failures';
import { defaultSimulatorAppId, OnboardingRegistry } from './onboarding';

export type DeliveryStatus = 'sent' | 'delivered' | 'read';

/** A failure to answer instead of accepting the next send (optionally only the next one to `to` / from a line). */
export interface InjectedFailure {
  /** Graph error code; its usual HTTP status and title are used unless given. */
  code?: number;
  httpStatus?: number;
  message?: string;
  /** Answer this text instead of a Graph error body (a proxy's HTML page, say). */
  rawBody?: string;
  to?: string;
  phoneNumberId?: string;
  /**
   * Instead of an error: accept the send (it goes out, its statuses follow) and cut the connection without
   * answering, as a sender that dies mid-call (or loses its connection) sees it: it never learns the wamid.
   */
  acceptThenDrop?: boolean;
}

export interface RecipientBehaviour {
  /** The statuses this recipient's messages go through; default: the global autoStatuses. */
  autoStatuses?: DeliveryStatus[];
  /** After those statuses, a `failed` status with this Graph error code (e.g. 131026 undeliverable). */
  failWith?: number;
  /** Only messages of these templates (by name) take this course; the recipient's other messages the global one. */
  templates?: string[];
}

export interface SimulatorConfig {
  webhookUrl?: string;
  /** Bearer tokens the Graph endpoints accept. */
  accessTokens: string[];
  /** Sends per second accepted from one phone number, counted over any sliding second; beyond it, error 130429. Null: unlimited. */
  rateLimitPerSecond: number | null;
  /**
   * The pair rate to one recipient: one message per `intervalMs` sustained, `burst` back to back; beyond it,
   * error 131056. Null: unlimited.
   */
  pairRate: { intervalMs: number; burst: number } | null;
  failNext: InjectedFailure[];
  /** Pause before each automatic status webhook. */
  statusDelayMs: number;
  autoStatuses: DeliveryStatus[];
  /** Keyed by the recipient's number as sent (`to`) or its digits (wa_id). */
  recipients: Record<string, RecipientBehaviour>;
  /** Post every webhook twice, as Meta does when it is unsure it was received. */
  duplicateWebhooks: boolean;
  /** Further attempts after a webhook answered other than 200, with doubling delay. */
  webhookRetries: number;
  webhookRetryDelayMs: number;
  /** The WhatsApp Business Account id put in webhook entries. */
  wabaId: string;
  /** Display numbers per phone number id; default derived from the id. */
  displayPhoneNumbers: Record<string, string>;
  /** How long Meta's review of a new or edited template takes before its status webhook. */
  templateReviewDelayMs: number;
  /** What the review decides; PENDING: it never decides. */
  templateReviewOutcome: 'APPROVED' | 'REJECTED' | 'PENDING';
  /** The largest page GET message_templates answers (its `limit` is capped to it); default page 25, as Graph's. */
  templatePageLimit: number;
  /** Refuse sends of templates the simulator does not hold (132001), as Meta does; off, only known ones are checked. */
  strictTemplates: boolean;
  /** Sends of these templates fail with the code: keyed by template name, or `name@phoneNumberId` for one line. */
  failTemplates: Record<string, number>;
  /**
   * Refuse a message other than a template (131047) to a customer who has not written to that phone number in
   * the last 24 hours, as Meta does: the customer-service window is per business number.
   */
  enforceServiceWindow: boolean;
  /** Shares of sends refused at random (5xx, 130429), from a seeded generator; null: none. Setting it restarts the sequence. */
  failureRates: FailureRates | null;
  /** The Meta app's id: Embedded Signup's code exchange (`client_id`) and debug_token's app token must name it. */
  appId: string;
  /** How long a signup code from POST /_sim/signup can be exchanged (Meta's are short-lived). */
  signupCodeTtlMs: number;
  /** The largest page GET {waba-id}/phone_numbers answers (its `limit` is capped to it); default page 25. */
  phoneNumberPageLimit: number;
  /**
   * How long a send is held before it is answered, after it was accepted (Meta takes a few hundred ms): a
   * sender that dies meanwhile never learns the wamid of a message that does go out.
   */
  sendLatencyMs: number;
}

/** A message template of a WABA, as the simulator's Business Management endpoints hold it. */
export interface SimTemplate {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category: string;
  components: unknown[];
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  rejectedReason?: string;
}

/** A send the simulator refused with an error, and why: `throughput`, `pair_rate`, `injected`, `random` (failureRates), or `window` (enforceServiceWindow). */
export interface RecordedRejection {
  phoneNumberId: string;
  to: string;
  /** The Graph error code answered; the HTTP status for an injected non-Graph answer (`rawBody`). */
  code: number;
  reason: 'throughput' | 'pair_rate' | 'injected' | 'random' | 'window';
  at: string;
}

export interface RecordedMessage {
  wamid: string;
  phoneNumberId: string;
  apiVersion: string;
  /** As the sender wrote it (Meta's `contacts[].input`). */
  to: string;
  waId: string;
  type: string;
  /** The request body exactly as received (parsed JSON). */
  body: Record<string, unknown>;
  receivedAt: string;
}

export interface RecordedRead {
  phoneNumberId: string;
  messageId: string;
  body: Record<string, unknown>;
  receivedAt: string;
}

export interface WebhookAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface RecordedWebhook {
  seq: number;
  /** What it carried: `inbound`, `status:<status>`, or `event:<field>`. */
  kind: string;
  /** The wamid of the message it is about, if any. */
  messageId?: string;
  duplicate: boolean;
  body: unknown;
  signature: string;
  attempts: WebhookAttempt[];
  delivered: boolean;
}

export const defaultConfig = (opts: { webhookUrl?: string; accessToken: string; wabaId?: string; appId?: string }): SimulatorConfig => ({
  webhookUrl: opts.webhookUrl,
  accessTokens: [opts.accessToken],
  rateLimitPerSecond: null,
  pairRate: null,
  failNext: [],
  statusDelayMs: 20,
  autoStatuses: ['sent', 'delivered', 'read'],
  recipients: {},
  duplicateWebhooks: false,
  webhookRetries: 3,
  webhookRetryDelayMs: 100,
  wabaId: opts.wabaId ?? '100000000000001',
  displayPhoneNumbers: {},
  templateReviewDelayMs: 300,
  templateReviewOutcome: 'APPROVED',
  templatePageLimit: 100,
  strictTemplates: false,
  failTemplates: {},
  failureRates: null,
  appId: opts.appId ?? defaultSimulatorAppId,
  signupCodeTtlMs: 30_000,
  phoneNumberPageLimit: 100,
  sendLatencyMs: 0,
  enforceServiceWindow: false,
});

export class SimulatorState {
  config: SimulatorConfig;
  messages: RecordedMessage[] = [];
  reads: RecordedRead[] = [];
  webhooks: RecordedWebhook[] = [];
  templates: SimTemplate[] = [];
  rejections: RecordedRejection[] = [];
  private readonly sendTimes = new Map<string, number[]>();
  /** Per phone number id and recipient: the theoretical time of the next message at the pair rate. */
  private readonly pairTat = new Map<string, number>();
  /** Per phone number id and customer (wa_id): when the customer last wrote to that number. */
  private readonly customerWrote = new Map<string, number>();
  private webhookSeq = 0;
  readonly randomFailures = new RandomFailureSource();
  /** WABAs, their phone numbers, signup codes and business tokens (onboarding.ts). */
  onboarding = new OnboardingRegistry();

  constructor(private readonly initial: () => SimulatorConfig) {
    this.config = initial();
  }

  /** Fields given replace the current ones; the rest stay. */
  configure(patch: Partial<SimulatorConfig>): SimulatorConfig {
    this.config = { ...this.config, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    if (patch.failureRates !== undefined) this.randomFailures.set(patch.failureRates);
    return this.config;
  }

  /** Everything back to how the simulator started. */
  reset(): void {
    this.config = this.initial();
    this.randomFailures.set(null);
    this.onboarding = new OnboardingRegistry();
    this.messages = [];
    this.reads = [];
    this.webhooks = [];
    this.templates = [];
    this.rejections = [];
    this.sendTimes.clear();
    this.pairTat.clear();
    this.customerWrote.clear();
  }

  /** A customer wrote to the phone number: its service window with them opens (or stays open) for 24 h. */
  customerWroteTo(phoneNumberId: string, waId: string, at = Date.now()): void {
    this.customerWrote.set(`${phoneNumberId}/${waId}`, at);
  }

  /** Whether a message that is not a template may go to this customer from this number now. */
  serviceWindowOpen(phoneNumberId: string, waId: string, now = Date.now()): boolean {
    if (!this.config.enforceServiceWindow) return true;
    const wrote = this.customerWrote.get(`${phoneNumberId}/${waId}`);
    return wrote !== undefined && now - wrote < 24 * 3600_000;
  }

  /** Counts a send against the line's per-second budget; false when it is over. */
  takeThroughput(phoneNumberId: string, now = Date.now()): boolean {
    const limit = this.config.rateLimitPerSecond;
    if (limit === null) return true;
    const recent = (this.sendTimes.get(phoneNumberId) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= limit) {
      this.sendTimes.set(phoneNumberId, recent);
      return false;
    }
    recent.push(now);
    this.sendTimes.set(phoneNumberId, recent);
    return true;
  }

  /** Whether one more message to this recipient keeps within the pair rate; `commit` counts it. */
  pairRateAllows(phoneNumberId: string, waId: string, now = Date.now()): { ok: boolean; commit: () => void } {
    const pair = this.config.pairRate;
    if (!pair) return { ok: true, commit: () => undefined };
    const key = `${phoneNumberId}/${waId}`;
    const tat = Math.max(this.pairTat.get(key) ?? now, now);
    const ok = tat - now <= pair.intervalMs * (pair.burst - 1);
    return { ok, commit: () => void this.pairTat.set(key, tat + pair.intervalMs) };
  }

  /** The first injected failure that applies to this send, removed from the queue. */
  takeFailure(phoneNumberId: string, to: string, waId: string): InjectedFailure | undefined {
    const i = this.config.failNext.findIndex(
      (f) => (!f.phoneNumberId || f.phoneNumberId === phoneNumberId) && (!f.to || f.to === to || f.to.replace(/\D/g, '') === waId),
    );
    if (i < 0) return undefined;
    const [failure] = this.config.failNext.splice(i, 1);
    return failure;
  }

  recipient(to: string, waId: string, templateName?: string): RecipientBehaviour {
    const behaviour = this.config.recipients[to] ?? this.config.recipients[waId] ?? this.config.recipients[`+${waId}`] ?? {};
    return behaviour.templates && !(templateName && behaviour.templates.includes(templateName)) ? {} : behaviour;
  }

  displayPhoneNumber(phoneNumberId: string): string {
    return this.config.displayPhoneNumbers[phoneNumberId] ?? `1555${phoneNumberId.replace(/\D/g, '').slice(-7).padStart(7, '0')}`;
  }

  /** The last message this line sent to a recipient, optionally of one type (to fill a reply's context). */
  lastSentTo(phoneNumberId: string, waId: string, type?: string): RecordedMessage | undefined {
    return this.messages.findLast((m) => m.phoneNumberId === phoneNumberId && m.waId === waId && (!type || m.type === type));
  }

  nextWebhookSeq(): number {
    return ++this.webhookSeq;
  }
}

let counter = 0;

/** Message ids shaped like Meta's: `wamid.` and base64 of an opaque value. */
export function newWamid(waId: string): string {
  const opaque = Buffer.concat([Buffer.from(`${waId}:${(++counter).toString(36)}:`), randomBytes(12)]);
  return `wamid.${opaque.toString('base64')}`;
}
