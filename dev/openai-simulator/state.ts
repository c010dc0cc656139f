/** What the OpenAI-compatible simulator was asked to do, and what it received. */

/** How the next answers of /v1/chat/completions go wrong, for tests of repair and rejection. */
export type InvalidKind =
  /**
   * A flow that fits the JSON schema but not FlowBot's rules (an edge to a missing node, a too long button
   * title); for template variants, every other variant breaks the template rules; for a knowledge reply, it
   * cites a source that was not given.
   */
  | 'invalid_flow'
  /** Prose instead of JSON. */
  | 'not_json';

export interface InjectedFailure {
  /** HTTP status to answer (429, 500, 503, …). */
  status: number;
  message?: string;
  /** OpenAI's error `code`, e.g. `rate_limit_exceeded` or `insufficient_quota`. */
  code?: string;
}

export interface SimulatorConfig {
  /** Bearer keys accepted; any other key is answered 401 as OpenAI does. */
  apiKeys: string[];
  /** The next N chat completions answer wrongly, in the way of `invalidKind`. */
  invalidNext: number;
  invalidKind: InvalidKind;
  /** Answered instead of the next requests (chat or embeddings), one each, in order. */
  failNext: InjectedFailure[];
  /** Delay before each answer, to test timeouts. */
  latencyMs: number;
  /** Dimensions of embedding vectors unless the request asks for others. */
  embeddingDimensions: number;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  /** The key the caller sent, masked to its last four characters. */
  apiKey: string | null;
  model: string | null;
  body: unknown;
  /** What was answered: the status and, for chat completions, the message content. */
  status: number;
  answer?: string;
  receivedAt: string;
}

export class SimulatorState {
  config: SimulatorConfig;
  requests: RecordedRequest[] = [];
  private seq = 0;

  constructor(private readonly initial: () => SimulatorConfig) {
    this.config = initial();
  }

  record(entry: Omit<RecordedRequest, 'seq' | 'receivedAt'>): RecordedRequest {
    const recorded = { ...entry, seq: ++this.seq, receivedAt: new Date().toISOString() };
    this.requests.push(recorded);
    return recorded;
  }

  /** The next injected failure, if any (each is used once). */
  takeFailure(): InjectedFailure | undefined {
    return this.config.failNext.shift();
  }

  /** Whether this chat answer should be wrong (and counts it). */
  takeInvalid(): InvalidKind | undefined {
    if (this.config.invalidNext <= 0) return undefined;
    this.config.invalidNext -= 1;
    return this.config.invalidKind;
  }

  configure(patch: Partial<SimulatorConfig>): SimulatorConfig {
    this.config = { ...this.config, ...patch };
    return this.config;
  }

  reset(): void {
    this.config = this.initial();
    this.requests = [];
  }
}

export const maskKey = (key: string): string => `****${key.slice(-4)}`;
