import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { perSecond, round, summarize } from './stats';

/**
 * Closed-loop load: `concurrency` callers each run one operation after another, so at most that many are in
 * flight. Bounded by a count, a duration, or both (whichever comes first). Each operation's latency is
 * measured around the call; an operation that throws or answers "not ok" counts as failed, not as done.
 */
export interface LoadOptions {
  concurrency: number;
  /** Stop starting operations after this many. */
  count?: number;
  /** Stop starting operations after this long; those in flight finish and count. */
  durationMs?: number;
  /** The operation; `i` runs from 0. Resolve true when it was accepted. */
  op: (i: number) => Promise<boolean>;
}

export interface LoadRun {
  ok: number;
  failed: number;
  /** From the first start to the last completion. */
  durationMs: number;
  /** Latency of each accepted operation, in ms. */
  latenciesMs: number[];
  /** The first few failures, for the report. */
  errors: string[];
}

export async function closedLoop(opts: LoadOptions): Promise<LoadRun> {
  if (opts.count === undefined && opts.durationMs === undefined) throw new Error('closedLoop needs a count or a duration');
  const started = performance.now();
  const deadline = opts.durationMs === undefined ? Infinity : started + opts.durationMs;
  const limit = opts.count ?? Infinity;
  const run: LoadRun = { ok: 0, failed: 0, durationMs: 0, latenciesMs: [], errors: [] };
  let next = 0;
  let lastDone = started;
  const caller = async () => {
    while (next < limit && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      let accepted = false;
      try {
        accepted = await opts.op(i);
        if (!accepted && run.errors.length < 5) run.errors.push(`operation ${i} was not accepted`);
      } catch (err) {
        if (run.errors.length < 5) run.errors.push((err as Error).message.split('\n')[0]);
      }
      lastDone = performance.now();
      if (accepted) {
        run.ok++;
        run.latenciesMs.push(lastDone - t0);
      } else {
        run.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, caller));
  run.durationMs = lastDone - started;
  return run;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A keep-alive HTTP client with at most `maxSockets` connections: the load generator's, light on CPU. */
export function httpClient(baseUrl: string, maxSockets: number) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  function request(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
  return {
    request,
    post: (path: string, headers: Record<string, string>, body: Buffer | string) => request('POST', path, headers, body),
    get: (path: string, headers: Record<string, string> = {}) => request('GET', path, headers),
    close: () => agent.destroy(),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** True for a 200; otherwise throws with the status and the start of the answer, for the report. */
export function accepted(answer: HttpAnswer): true {
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
  return true;
}

/** A run's raw numbers for results.json. */
export const runDetails = (run: LoadRun, cores: Record<string, number>) => ({
  accepted: run.ok,
  failed: run.failed,
  durationMs: round(run.durationMs, 1),
  perSecond: round(perSecond(run.ok, run.durationMs), 1),
  latencyMs: Object.fromEntries(Object.entries(summarize(run.latenciesMs)).map(([k, v]) => [k, round(v, 2)])),
  errors: run.errors,
  cpuCores: cores,
});
