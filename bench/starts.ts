import { setTimeout as sleep } from 'node:timers/promises';
import { contactSearchAttributes } from '../core/journey/signal';
import { searchAttributes as sa } from '../core/temporal/search-attributes';
import { journeyWorkflowId } from '../core/temporal/workflow-ids';
import { BASELINE_TASK_QUEUE } from './baseline-worker';
import { journeyTimeline, timelineText } from './history';
import { accepted, closedLoop, httpClient, runDetails } from './load';
import { cpuMeter, formatCores, threadMeter, type CpuMeter } from './procs';
import { sampleWaits, waitsText } from './samplers';
import { ratioOf, type BenchmarkReport } from './report';
import type { BenchStack } from './stack';
import { perSecond, round, summarize } from './stats';
import type { BenchTenant } from './tenants';

/**
 * 2. Journey starts: POST /api/webhook/outbound (API token, a distinct phone each, opening template) against
 * bare `signalWithStart` calls of a trivial workflow on the same Temporal server, same concurrency.
 *
 * The route allows 30 triggers a minute per tenant, and that limit stays as in production: the starts are
 * spread over enough tenants (30 each) instead. One more tenant serves the warm-up.
 *
 * A third run, in the notes: the same bare starts carrying the search attributes every journey is started with
 * (whose contact, which line, its status). What the server does for those alone bounds what the route can reach.
 */

export const TRIGGERS_PER_TENANT = 30;

async function templatesSent(stack: BenchStack, tenants: BenchTenant[]): Promise<number> {
  const [row] = await stack.orm.em.getConnection().execute<{ n: string }[]>(
    `select count(*) as n from messages where direction = 'out' and type = 'template' and provider_message_id is not null
       and tenant_id = any(string_to_array(?, ',')::uuid[])`,
    [tenants.map((t) => t.tenantId).join(',')],
  );
  return Number(row.n);
}

async function untilNoneRunning(stack: BenchStack, workflowType: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const query = `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running'`;
  while ((await stack.temporal.client.workflow.count(query)).count > 0 && Date.now() < deadline) await sleep(200);
}

export async function benchStarts(
  stack: BenchStack,
  tenants: BenchTenant[],
  s: { concurrency: number; starts: number },
  cpu: CpuMeter,
): Promise<BenchmarkReport> {
  const [warmTenant, ...measured] = tenants;
  if (measured.length * TRIGGERS_PER_TENANT < s.starts) throw new Error(`${s.starts} starts need ${Math.ceil(s.starts / TRIGGERS_PER_TENANT) + 1} tenants`);

  const bare = (prefix: string, attributes = false) => async (i: number) => {
    const contact = `97259${String(i).padStart(7, '0')}`;
    await stack.temporal.client.workflow.signalWithStart('benchStart', {
      taskQueue: BASELINE_TASK_QUEUE,
      workflowId: `bench-start-${prefix}-${i}`,
      signal: 'go',
      signalArgs: [],
      ...(attributes
        ? {
            typedSearchAttributes: [
              ...contactSearchAttributes({ tenantId: warmTenant.tenantId, channel: 'whatsapp', lineId: warmTenant.line.id, contact }),
              { key: sa.JourneyStatus, value: 'idle' },
            ],
          }
        : {}),
    });
    return true;
  };
  await closedLoop({ concurrency: s.concurrency, count: TRIGGERS_PER_TENANT, op: bare('warm') });
  cpu.start();
  const baseline = await closedLoop({ concurrency: s.concurrency, count: s.starts, op: bare('run') });
  const baselineCores = cpu.stop();
  // signalWithStart answers before the workflow runs: let the baseline's workflows finish before the next run.
  await untilNoneRunning(stack, 'benchStart');
  const withAttributes = await closedLoop({ concurrency: s.concurrency, count: s.starts, op: bare('attributes', true) });
  await untilNoneRunning(stack, 'benchStart');

  const api = httpClient(stack.apiUrl, s.concurrency);
  const trigger = (pick: (i: number) => BenchTenant, prefix: string) => async (i: number) => {
    const tenant = pick(i);
    const body = JSON.stringify({ phone: `+${prefix}${String(i).padStart(7, '0')}`, flowId: tenant.flowId, templateName: 'hello_utility', data: { customerName: 'Bench' } });
    return accepted(await api.post('/api/webhook/outbound', { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` }, body));
  };
  const firstTrigger = Date.now();
  const engineCpu = cpuMeter(stack.pids);
  const workerThreads = threadMeter(() => stack.pids().worker);
  engineCpu.start();
  workerThreads.start();
  const { run: ours, cores: oursCores, waits } = await (async () => {
    try {
      await closedLoop({ concurrency: s.concurrency, count: TRIGGERS_PER_TENANT, op: trigger(() => warmTenant, '97251') });
      cpu.start();
      const sampler = sampleWaits(stack.orm);
      const run = await closedLoop({ concurrency: s.concurrency, count: s.starts, op: trigger((i) => measured[i % measured.length], '97252') });
      return { run, cores: cpu.stop(), waits: await sampler.stop() };
    } finally {
      api.close();
    }
  })();

  // The journeys go on after the API has answered: each sends its opening template through the simulator.
  const expected = TRIGGERS_PER_TENANT + ours.ok;
  let sent = 0;
  const deadline = Date.now() + 180_000;
  while ((sent = await templatesSent(stack, tenants)) < expected && Date.now() < deadline) await sleep(200);
  const allSentMs = Date.now() - firstTrigger;
  const engineCores = engineCpu.stop();
  const workerThreadCores = workerThreads.stop();
  // What one start costs Temporal: history events of a journey up to its opening template, and of a bare start.
  const client = stack.temporal.client;
  const journeyOf = (i: number) => {
    const tenant = measured[i % measured.length];
    return journeyWorkflowId({ tenantId: tenant.tenantId, channel: 'whatsapp', lineId: tenant.line.id, contact: `97252${String(i).padStart(7, '0')}` });
  };
  const journeyEvents = (await client.workflow.getHandle(journeyOf(0)).describe()).historyLength;
  const bareEvents = (await client.workflow.getHandle('bench-start-run-0').describe()).historyLength;
  const timeline = await journeyTimeline(client, Array.from({ length: 20 }, (_, k) => journeyOf(Math.floor((k * ours.ok) / 20))));
  const settled = await stack.quiesce();

  const oursRate = perSecond(ours.ok, ours.durationMs);
  const bareRate = perSecond(baseline.ok, baseline.durationMs);
  const attributesRate = perSecond(withAttributes.ok, withAttributes.durationMs);
  const oursLatency = summarize(ours.latenciesMs);
  const bareLatency = summarize(baseline.latenciesMs);
  return {
    id: 'starts',
    title: 'Journey starts',
    figures: [
      { name: '2. journey starts/s', unit: '/s', ours: oursRate, baseline: bareRate, ratio: ratioOf(oursRate, bareRate), target: { atLeast: 0.8 } },
      { name: '2. start call p99', unit: 'ms', ours: oursLatency.p99, baseline: bareLatency.p99, ratio: ratioOf(oursLatency.p99, bareLatency.p99) },
    ],
    notes: [
      `starts: ${s.starts} each at ${s.concurrency} concurrent after ${TRIGGERS_PER_TENANT} of warm-up; ours over ${measured.length} tenants ` +
        `(${TRIGGERS_PER_TENANT} per tenant: the production limit of the route), opening template 'hello_utility'.`,
      `starts: CPU cores used, ours: ${formatCores(oursCores)}; bare: ${formatCores(baselineCores)}.`,
      `starts: bare starts carrying a journey's search attributes (tenant, channel, line, contact, status): ${round(attributesRate, 0)} /s, ` +
        `${round(ratioOf(attributesRate, bareRate), 2)} of bare: the most the route could reach on this server with no API, journey or send at all.`,
      `starts: while ours ran: ${waitsText(waits)}.`,
      `starts: the journeys had sent ${sent} of ${expected} opening templates ${round(allSentMs / 1000, 1)} s after the first trigger ` +
        `(${round(perSecond(sent, allSentMs), 0)} journeys/s end to end); inbox quiet ${round(settled.ms / 1000, 1)} s later.`,
      `starts: CPU cores from the first trigger to the last template: ${formatCores(engineCores)}; ` +
        `Temporal history per start: a journey up to its template ${journeyEvents} events, a bare start ${bareEvents}.`,
      `starts: inside the journeys: ${timelineText(timeline)}; worker threads meanwhile (cores): ${formatCores(workerThreadCores)}.`,
      ...(ours.failed || baseline.failed || withAttributes.failed
        ? [`starts: failures: ours ${ours.failed} (${ours.errors.join('; ')}), bare ${baseline.failed} (${baseline.errors.join('; ')}), with attributes ${withAttributes.failed}.`]
        : []),
    ],
    details: {
      ours: { ...runDetails(ours, oursCores), waits },
      baseline: runDetails(baseline, baselineCores),
      bareWithSearchAttributes: { ok: withAttributes.ok, failed: withAttributes.failed, durationMs: withAttributes.durationMs, perSecond: attributesRate },
      tenants: measured.length,
      templatesSent: sent,
      templatesExpected: expected,
      allTemplatesSentMs: allSentMs,
      engineCpuCores: engineCores,
      workerThreadCores,
      historyEvents: { journeyToTemplate: journeyEvents, bareStart: bareEvents },
      journeyTimeline: timeline,
    },
  };
}
