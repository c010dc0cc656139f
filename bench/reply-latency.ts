import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedMessage } from '../dev/whatsapp-simulator/state';
import { dispatcherDefaults } from '../workers/inbox-dispatcher';
import { BASELINE_TASK_QUEUE } from './baseline-worker';
import { accepted, httpClient } from './load';
import { ratioOf, type BenchmarkReport } from './report';
import type { BenchStack, SimulatorClient } from './stack';
import { percentile, round, summarize } from './stats';
import type { BenchTenant } from './tenants';
import { customerText, signed } from './webhooks';

/**
 * 3. Reply latency: a customer answers a journey's question with a signed webhook; we time until the bot's
 * next message reaches the simulator. Baseline: a bare workflow waiting for a signal, whose one activity
 * posts a message to the simulator; timed from the signal call to the simulator recording the message.
 * Both ends are read from this machine's clock: the start here, the arrival as the simulator stamps it.
 * Samples are taken one at a time, so this is latency, not throughput.
 */

/** Contacts whose journeys wait on a question (the inbound flow asks two questions in turn, forever). */
export interface ReplyProbe {
  tenant: BenchTenant;
  contacts: string[];
  /** Messages the simulator has recorded for each contact so far. */
  received: Map<string, number>;
  seq: number;
}

export interface LatencySamples {
  latenciesMs: number[];
  failures: string[];
  /** Ours only: where the time went, per sample. */
  stages?: { ackMs: number[]; inboxWaitMs: number[]; engineMs: number[] };
}

/**
 * A random pause before each sample, as customers answer whenever they like. Without it each sample would
 * start right after the previous answer, in step with anything that runs on a period (the dispatcher's
 * polling), and always land at the same point of that period.
 */
const thinkTime = () => sleep(Math.random() * 250);

async function nextMessage(sim: SimulatorClient, to: string, known: number, timeoutMs = 15_000): Promise<RecordedMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await sim.messagesTo(to);
    if (messages.length > known) return messages[known];
    if (Date.now() > deadline) throw new Error(`no message to ${to} within ${timeoutMs / 1000} s`);
    await sleep(5);
  }
}

export async function prepareReplyProbe(stack: BenchStack, tenant: BenchTenant, count: number): Promise<ReplyProbe> {
  const contacts = Array.from({ length: count }, (_, i) => `97253${String(i).padStart(7, '0')}`);
  const api = httpClient(stack.apiUrl, 8);
  try {
    await Promise.all(
      contacts.map(async (c) => {
        const hook = signed(customerText(tenant.line, c, `wamid.bench-hello-${c}`, 'hi'), stack.appSecret);
        accepted(await api.post('/api/webhook/whatsapp', hook.headers, hook.body));
        await nextMessage(stack.sim, c, 0, 60_000);
      }),
    );
  } finally {
    api.close();
  }
  return { tenant, contacts, received: new Map(contacts.map((c) => [c, 1])), seq: 0 };
}

/**
 * When the dispatcher claimed each event: it leases a claimed row by pushing next_attempt_at its default lease
 * past the claim, so for a row handled at its first attempt (quickly: no renewal) the claim is that minus the lease.
 */
async function claimTimes(stack: BenchStack, wamids: string[]): Promise<Map<string, { receivedMs: number; claimedMs: number }>> {
  const rows = await stack.orm.em.getConnection().execute<{ dedupe_key: string; received_ms: number; claimed_ms: number; attempts: number }[]>(
    `select dedupe_key, (extract(epoch from received_at) * 1000)::float8 as received_ms,
       (extract(epoch from next_attempt_at) * 1000 - ?)::float8 as claimed_ms, attempts
     from webhook_inbox where provider = 'whatsapp' and dedupe_key = any(string_to_array(?, ','))`,
    [dispatcherDefaults.leaseMs, wamids.join(',')],
  );
  return new Map(rows.filter((r) => r.attempts === 1).map((r) => [r.dedupe_key, { receivedMs: r.received_ms, claimedMs: r.claimed_ms }]));
}

export async function ourReplies(stack: BenchStack, probe: ReplyProbe, samples: number, warmup: number): Promise<LatencySamples> {
  const api = httpClient(stack.apiUrl, 1);
  const out: LatencySamples = { latenciesMs: [], failures: [], stages: { ackMs: [], inboxWaitMs: [], engineMs: [] } };
  const timed: Array<{ wamid: string; t0: number; ackAt: number; arrivedAt: number }> = [];
  try {
    for (let j = 0; j < warmup + samples; j++) {
      const contact = probe.contacts[j % probe.contacts.length];
      const wamid = `wamid.bench-reply-${probe.seq++}`;
      const hook = signed(customerText(probe.tenant.line, contact, wamid, `answer ${j}`), stack.appSecret);
      const known = probe.received.get(contact)!;
      await thinkTime();
      try {
        const t0 = Date.now();
        accepted(await api.post('/api/webhook/whatsapp', hook.headers, hook.body));
        const ackAt = Date.now();
        const message = await nextMessage(stack.sim, contact, known);
        probe.received.set(contact, known + 1);
        if (j >= warmup) timed.push({ wamid, t0, ackAt, arrivedAt: Date.parse(message.receivedAt) });
      } catch (err) {
        if (j >= warmup) out.failures.push((err as Error).message);
        // Whatever arrives late must not be taken for the answer to this contact's next sample.
        probe.received.set(contact, (await stack.sim.messagesTo(contact)).length);
      }
    }
  } finally {
    api.close();
  }
  const claims = await claimTimes(stack, timed.map((t) => t.wamid));
  for (const t of timed) {
    out.latenciesMs.push(t.arrivedAt - t.t0);
    out.stages!.ackMs.push(t.ackAt - t.t0);
    const claim = claims.get(t.wamid);
    if (claim) {
      out.stages!.inboxWaitMs.push(claim.claimedMs - claim.receivedMs);
      out.stages!.engineMs.push(t.arrivedAt - claim.claimedMs);
    }
  }
  return out;
}

export async function bareReplies(stack: BenchStack, samples: number, warmup: number, tag: number): Promise<LatencySamples> {
  const recipients = Array.from({ length: warmup + samples }, (_, j) => `1999${tag}${String(j).padStart(6, '0')}`);
  await stack.sim.silence(recipients);
  const client = stack.temporal.client;
  const handles = [];
  for (let j = 0; j < recipients.length; j += 32) {
    handles.push(
      ...(await Promise.all(
        recipients.slice(j, j + 32).map((to, i) =>
          client.workflow.start('benchReply', { taskQueue: BASELINE_TASK_QUEUE, workflowId: `bench-reply-${tag}-${j + i}`, args: [to] }),
        ),
      )),
    );
  }
  const out: LatencySamples = { latenciesMs: [], failures: [] };
  for (let j = 0; j < recipients.length; j++) {
    await thinkTime();
    try {
      const t0 = Date.now();
      await handles[j].signal('go');
      const message = await nextMessage(stack.sim, recipients[j], 0);
      if (j >= warmup) out.latenciesMs.push(Date.parse(message.receivedAt) - t0);
    } catch (err) {
      if (j >= warmup) out.failures.push((err as Error).message);
    }
  }
  return out;
}

const ms = (values: number[], p: number) => round(percentile(values, p), 0);

/** "ack 3 ms, inbox wait 104 ms, …" at the p-th percentile of each stage. */
export function stagesText(stages: NonNullable<LatencySamples['stages']>, p: number): string {
  return `webhook answered ${ms(stages.ackMs, p)} ms, waiting in the inbox until the dispatcher claimed it ${ms(stages.inboxWaitMs, p)} ms, ` +
    `claim to message at the simulator ${ms(stages.engineMs, p)} ms`;
}

export function latencyDetails(s: LatencySamples) {
  const summary = (v: number[]) => Object.fromEntries(Object.entries(summarize(v)).map(([k, x]) => [k, round(x, 1)]));
  return {
    latencyMs: summary(s.latenciesMs),
    failures: s.failures,
    ...(s.stages ? { stagesMs: { ack: summary(s.stages.ackMs), inboxWait: summary(s.stages.inboxWaitMs), claimToSimulator: summary(s.stages.engineMs) } } : {}),
  };
}

export async function benchReplyLatency(stack: BenchStack, probe: ReplyProbe, s: { samples: number }): Promise<BenchmarkReport> {
  const warmup = 5;
  const bare = await bareReplies(stack, s.samples, warmup, 1);
  const ours = await ourReplies(stack, probe, s.samples, warmup);
  const o = summarize(ours.latenciesMs);
  const b = summarize(bare.latenciesMs);
  return {
    id: 'reply',
    title: 'Reply latency',
    figures: [
      { name: '3. reply latency p50', unit: 'ms', ours: o.p50, baseline: b.p50, ratio: ratioOf(o.p50, b.p50) },
      { name: '3. reply latency p99', unit: 'ms', ours: o.p99, baseline: b.p99, ratio: ratioOf(o.p99, b.p99), target: { atMost: 2 } },
    ],
    notes: [
      `reply: ${o.count} samples one at a time over ${probe.contacts.length} waiting journeys (bare: ${b.count}), after ${warmup} of warm-up each.`,
      `reply: ours at p50: ${stagesText(ours.stages!, 50)}.`,
      `reply: ours at p99: ${stagesText(ours.stages!, 99)}.`,
      ...(ours.failures.length || bare.failures.length ? [`reply: failures: ours ${ours.failures.length} (${ours.failures.slice(0, 3).join('; ')}), bare ${bare.failures.length}.`] : []),
    ],
    details: { ours: latencyDetails(ours), baseline: latencyDetails(bare) },
  };
}
