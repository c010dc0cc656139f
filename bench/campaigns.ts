import { measureCampaignThroughput, type LineThroughput } from '../dev/campaign-throughput';
import { formatCores, type CpuMeter } from './procs';
import { bareReplies } from './reply-latency';
import { sampleWaits, waitsText } from './samplers';
import { ratioOf, type BenchmarkReport, type Figure } from './report';
import type { BenchStack } from './stack';
import { round, summarize } from './stats';
import { addLine, type BenchTenant } from './tenants';

/**
 * 4. Campaign pacing: a bulk send on one line, then one on each of two lines at once, through the simulator
 * set to enforce the lines' rate (it answers 130429 beyond 80 sends in any second). Measured from the
 * simulator's side: achieved rate / configured rate per line (target ≥ 0.95), and the sends it refused for
 * rate (target none). Also the time from the bulk-send call to the line's first send, against the round trip
 * of a bare Temporal signal + one activity sending to the simulator.
 */

const RATE_PER_SECOND = 80;

const lineText = (l: LineThroughput) =>
  `${l.sent} sent at ${l.achievedPerSecond.toFixed(1)}/s (${l.ratio.toFixed(3)} of ${RATE_PER_SECOND}/s), busiest second ${l.busiestSecond}, ` +
  `${l.rateErrors} rate errors, first send ${Math.round(l.firstSendMs)} ms after the call`;

export async function benchCampaigns(stack: BenchStack, tenant: BenchTenant, s: { recipients: number }, cpu: CpuMeter): Promise<BenchmarkReport> {
  const second = await addLine(stack.apiUrl, tenant, stack.sim.accessToken);
  const measure = (lines: string[]) =>
    measureCampaignThroughput({
      apiUrl: stack.apiUrl,
      auth: { authorization: `Bearer ${tenant.token}` },
      simUrl: stack.sim.url,
      lines: lines.map((phoneNumberId) => ({ phoneNumberId, ratePerSecond: RATE_PER_SECOND })),
      recipientsPerLine: s.recipients,
    });
  // The first campaign of a fresh worker compiles its code paths: a short one first, not measured.
  await measureCampaignThroughput({
    apiUrl: stack.apiUrl,
    auth: { authorization: `Bearer ${tenant.token}` },
    simUrl: stack.sim.url,
    lines: [{ phoneNumberId: second.phoneNumberId, ratePerSecond: RATE_PER_SECOND }],
    recipientsPerLine: 200,
  });
  const [one] = await measure([tenant.line.phoneNumberId]);
  cpu.start();
  const sampler = sampleWaits(stack.orm);
  const two = await measure([tenant.line.phoneNumberId, second.phoneNumberId]);
  const [twoCores, twoWaits] = [cpu.stop(), await sampler.stop()];
  const bare = await bareReplies(stack, 20, 3, 4);
  const bareP50 = summarize(bare.latenciesMs).p50;

  const slowest = two.reduce((a, b) => (b.ratio < a.ratio ? b : a));
  const sends = one.sent + two.reduce((n, l) => n + l.sent, 0);
  const rateErrors = one.rateErrors + two.reduce((n, l) => n + l.rateErrors, 0);
  const firstSend = summarize([one, ...two].map((l) => l.firstSendMs));
  const figures: Figure[] = [
    { name: '4. campaign pacing, one line', unit: '/s', ours: one.achievedPerSecond, baseline: RATE_PER_SECOND, ratio: one.ratio, target: { atLeast: 0.95 } },
    { name: '4. campaign pacing, two lines (slower)', unit: '/s', ours: slowest.achievedPerSecond, baseline: RATE_PER_SECOND, ratio: slowest.ratio, target: { atLeast: 0.95 } },
    { name: '4. rate errors per send', unit: '', ours: rateErrors, baseline: sends, ratio: ratioOf(rateErrors, sends), target: { atMost: 0 } },
    { name: '4. API call to first send', unit: 'ms', ours: firstSend.p50, baseline: bareP50, ratio: ratioOf(firstSend.p50, bareP50) },
  ];
  return {
    id: 'campaigns',
    title: 'Campaign pacing',
    figures,
    notes: [
      `campaigns: ${s.recipients} recipients per line at ${RATE_PER_SECOND}/s, the simulator refusing sends beyond ${RATE_PER_SECOND} in any second.`,
      `campaigns: one line: ${lineText(one)}.`,
      ...two.map((l, i) => `campaigns: two lines at once, line ${i + 1}: ${lineText(l)}.`),
      `campaigns: while the two ran (each send brings three status webhooks): CPU cores ${formatCores(twoCores)}; ${waitsText(twoWaits)}.`,
      `campaigns: API call to first send is the median of the three campaigns; bare: a signal to a waiting workflow until its one activity's message reaches the simulator (p50 of ${bare.latenciesMs.length}).`,
    ],
    details: {
      oneLine: one,
      twoLines: two,
      firstSendMs: Object.fromEntries(Object.entries(firstSend).map(([k, v]) => [k, round(v, 1)])),
      bareRoundTripMs: Object.fromEntries(Object.entries(summarize(bare.latenciesMs)).map(([k, v]) => [k, round(v, 1)])),
    },
  };
}
