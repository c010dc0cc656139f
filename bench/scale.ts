import { setTimeout as sleep } from 'node:timers/promises';
import { journeyWorkflowId } from '../core/temporal/workflow-ids';
import { journeyTimeline, timelineText } from './history';
import { accepted, closedLoop, httpClient } from './load';
import { cpuMeter, formatCores, rssMiB, threadMeter } from './procs';
import { bareReplies, latencyDetails, ourReplies, stagesText, type ReplyProbe } from './reply-latency';
import { ratioOf, type BenchmarkReport } from './report';
import type { BenchStack } from './stack';
import { percentile, perSecond, round, slope, summarize } from './stats';
import { customerText, signed } from './webhooks';

/**
 * 5. Scale: many journeys waiting for a reply at once. Customers write in (signed webhooks), each starts a
 * journey that asks its first question and waits. We load them in two equal steps and read the resident
 * memory of the API and the worker processes before and after each, then time replies (as in 3) while
 * they all wait.
 */

/** Median of three readings half a second apart, after things calm down. */
async function memory(stack: BenchStack): Promise<{ api: number; worker: number }> {
  await sleep(1500);
  const reads: Array<{ api: number; worker: number }> = [];
  for (let i = 0; i < 3; i++) {
    if (i) await sleep(500);
    const pids = stack.pids();
    reads.push({ api: rssMiB(pids.api), worker: rssMiB(pids.worker) });
  }
  return { api: percentile(reads.map((r) => r.api), 50), worker: percentile(reads.map((r) => r.worker), 50) };
}

export async function benchScale(
  stack: BenchStack,
  probe: ReplyProbe,
  s: { waiting: number; concurrency: number; samples: number },
): Promise<BenchmarkReport> {
  const query = `ExecutionStatus = 'Running' AND FlowId = '${probe.tenant.flowId}' AND JourneyStatus = 'waiting'`;
  const waitingInTemporal = async () => (await stack.temporal.client.workflow.count(query)).count - probe.contacts.length;
  /** Journeys that have asked their first question, from the database (Temporal's visibility lags a little). */
  const asked = async () => {
    const [row] = await stack.orm.em.getConnection().execute<{ n: string }[]>(
      `select count(distinct m.conversation_id) as n from messages m join conversations c on c.id = m.conversation_id
       where c.tenant_id = ? and c.contact like '97254%' and m.direction = 'out' and m.provider_message_id is not null`,
      [probe.tenant.tenantId],
    );
    return Number(row.n);
  };

  await stack.quiesce();
  const points = [{ loaded: 0, ...(await memory(stack)) }];
  const steps = [Math.ceil(s.waiting / 2), s.waiting];
  const loading: Array<{ to: number; ms: number; reached: number; waiting: number; cores: Record<string, number>; workerThreads: Record<string, number> }> = [];
  const api = httpClient(stack.apiUrl, s.concurrency);
  try {
    let loaded = 0;
    for (const step of steps) {
      const from = loaded;
      const started = Date.now();
      const cpu = cpuMeter(stack.pids);
      const threads = threadMeter(() => stack.pids().worker);
      cpu.start();
      threads.start();
      await closedLoop({
        concurrency: s.concurrency,
        count: step - from,
        op: async (i) => {
          const contact = `97254${String(from + i).padStart(8, '0')}`;
          const hook = signed(customerText(probe.tenant.line, contact, `wamid.bench-wait-${contact}`, 'hi'), stack.appSecret);
          return accepted(await api.post('/api/webhook/whatsapp', hook.headers, hook.body));
        },
      });
      loaded = step;
      const deadline = started + Math.max(120_000, (step - from) * 60);
      let reached = await asked();
      while (reached < loaded && Date.now() < deadline) {
        await sleep(250);
        reached = await asked();
      }
      const ms = Date.now() - started;
      const cores = cpu.stop();
      const workerThreads = threads.stop();
      await stack.quiesce();
      let waiting = await waitingInTemporal();
      for (const end = Date.now() + 30_000; waiting < reached && Date.now() < end; waiting = await waitingInTemporal()) await sleep(500);
      loading.push({ to: step, ms, reached, waiting, cores, workerThreads });
      points.push({ loaded, ...(await memory(stack)) });
    }
  } finally {
    api.close();
  }

  const timeline = await journeyTimeline(
    stack.temporal.client,
    Array.from({ length: 20 }, (_, k) => Math.floor((k * steps[0]) / 20)).map((i) =>
      journeyWorkflowId({ tenantId: probe.tenant.tenantId, channel: 'whatsapp', lineId: probe.tenant.line.id, contact: `97254${String(i).padStart(8, '0')}` }),
    ),
  );

  const warmup = 5;
  const bare = await bareReplies(stack, s.samples, warmup, 2);
  const ours = await ourReplies(stack, probe, s.samples, warmup);
  const o = summarize(ours.latenciesMs);
  const b = summarize(bare.latenciesMs);
  const perThousand = (key: 'api' | 'worker') => slope(points.map((p) => ({ x: p.loaded, y: p[key] }))) * 1000;
  const [first, last] = [points[0], points[points.length - 1]];
  const n = s.waiting.toLocaleString('en-US');
  return {
    id: 'scale',
    title: `Scale: ${n} waiting journeys`,
    figures: [
      { name: `5. reply p50, ${n} waiting`, unit: 'ms', ours: o.p50, baseline: b.p50, ratio: ratioOf(o.p50, b.p50) },
      { name: `5. reply p99, ${n} waiting`, unit: 'ms', ours: o.p99, baseline: b.p99, ratio: ratioOf(o.p99, b.p99), target: { atMost: 2 } },
      { name: `5. worker RSS, ${n} vs 0 waiting`, unit: 'MiB', ours: last.worker, baseline: first.worker, ratio: ratioOf(last.worker, first.worker) },
      { name: `5. API RSS, ${n} vs 0 waiting`, unit: 'MiB', ours: last.api, baseline: first.api, ratio: ratioOf(last.api, first.api) },
    ],
    notes: [
      `scale: memory growth per 1,000 waiting journeys: worker ${round(perThousand('worker'), 1)} MiB, API ${round(perThousand('api'), 1)} MiB ` +
        `(least squares over ${points.map((p) => `${p.loaded}: worker ${round(p.worker, 0)} / API ${round(p.api, 0)} MiB`).join(', ')}).`,
      `scale: ${loading.map((l) => `${l.reached} of ${l.to} journeys had asked their question ${round(l.ms / 1000, 1)} s after the step's first webhook`).join('; ')} ` +
        `(first step: ${round(perSecond(loading[0].reached, loading[0].ms), 0)} journeys/s); Temporal then counted ${loading[loading.length - 1].waiting} of them waiting; ` +
        `CPU cores while the first step loaded: ${formatCores(loading[0].cores)}.`,
      `scale: inside the first step's journeys: ${timelineText(timeline)}; worker threads meanwhile (cores): ${formatCores(loading[0].workerThreads)}.`,
      `scale: the worker caches up to ${stack.workerMaxCachedWorkflows} workflows (WORKER_MAX_CACHED_WORKFLOWS); ` +
        'journeys beyond that wait in Temporal only and are replayed when their reply comes.',
      `scale: ours at p99 while they wait: ${stagesText(ours.stages!, 99)}.`,
      `scale: default ${(2000).toLocaleString('en-US')} waiting journeys keeps the run short on small machines; the issue's 10,000: BENCH_WAITING=10000 npm run bench`,
      ...(ours.failures.length || bare.failures.length ? [`scale: failures: ours ${ours.failures.length} (${ours.failures.slice(0, 3).join('; ')}), bare ${bare.failures.length}.`] : []),
    ],
    details: {
      waiting: s.waiting,
      memoryMiB: points.map((p) => ({ loaded: p.loaded, api: round(p.api, 1), worker: round(p.worker, 1) })),
      growthPer1000MiB: { worker: round(perThousand('worker'), 2), api: round(perThousand('api'), 2) },
      loading,
      workerMaxCachedWorkflows: stack.workerMaxCachedWorkflows,
      journeyTimeline: timeline,
      ours: latencyDetails(ours),
      baseline: latencyDetails(bare),
    },
  };
}
