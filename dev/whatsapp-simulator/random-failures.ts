/**
 * Sends refused at random, at set rates, as a flaky Cloud API would: a share answered with a 5xx, a share with
 * 130429 (throughput). The draws come from a seeded generator, so the same seed and the same order of sends
 * fail the same sends, and a failing test can be run again as it was.
 */
export interface FailureRates {
  /** Share of sends (0–1) answered 500 `(#131000) Something went wrong` or 503 `(#2) Service temporarily unavailable`, alternately at random. */
  serverError?: number;
  /** Share of sends (0–1) answered 130429, as the line's throughput limit answers. */
  throughput?: number;
  /** The generator's seed (an integer); default 1. */
  seed?: number;
}

/** What a refused send is answered with: a Graph error code and its HTTP status. */
export interface RandomFailure {
  code: number;
  httpStatus: number;
}

const serverErrors: RandomFailure[] = [
  { code: 131000, httpStatus: 500 },
  { code: 2, httpStatus: 503 },
];

/** Mulberry32: a small, fast 32-bit generator, plenty for picking which sends fail. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isRate = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1);

/** Why `rates` cannot be used (for a 400 from POST /_sim/config), or undefined when they can; null turns them off. */
export function failureRatesProblem(rates: unknown): string | undefined {
  if (rates === undefined || rates === null) return undefined;
  if (typeof rates !== 'object' || Array.isArray(rates)) return 'failureRates must be an object {serverError?, throughput?, seed?} or null';
  const r = rates as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !['serverError', 'throughput', 'seed'].includes(k));
  if (unknown.length) return `failureRates: unknown field(s) ${unknown.join(', ')}`;
  if (!isRate(r.serverError) || !isRate(r.throughput)) return 'failureRates.serverError and failureRates.throughput must be numbers from 0 to 1';
  if (((r.serverError as number | undefined) ?? 0) + ((r.throughput as number | undefined) ?? 0) > 1) return 'failureRates: the shares add up to more than 1';
  if (r.seed !== undefined && !Number.isInteger(r.seed)) return 'failureRates.seed must be an integer';
  return undefined;
}

export class RandomFailureSource {
  private rates: FailureRates | null = null;
  private random = mulberry32(1);

  /** Draws from the start of `rates.seed`'s sequence again; null: no random failures. */
  set(rates: FailureRates | null): void {
    this.rates = rates;
    this.random = mulberry32(rates?.seed ?? 1);
  }

  /** One draw per send: how to refuse it, or undefined to let it through. */
  draw(): RandomFailure | undefined {
    if (!this.rates) return undefined;
    const serverError = this.rates.serverError ?? 0;
    const throughput = this.rates.throughput ?? 0;
    if (serverError + throughput <= 0) return undefined;
    const r = this.random();
    if (r < serverError) return serverErrors[Math.floor((r / serverError) * serverErrors.length)];
    if (r < serverError + throughput) return { code: 130429, httpStatus: 400 };
    return undefined;
  }
}
