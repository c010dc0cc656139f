import { upsertConversation } from '../core/conversations/store';
import { accepted, closedLoop, httpClient, runDetails } from './load';
import { formatCores, type CpuMeter } from './procs';
import { sampleWaits, waitsText } from './samplers';
import { ratioOf, type BenchmarkReport } from './report';
import type { BenchStack } from './stack';
import { perSecond, round, summarize } from './stats';
import type { BenchTenant } from './tenants';
import { customerText, signed, statusWebhook, type LineRef, type SignedWebhook } from './webhooks';

/**
 * 1. Webhook ingest: signed WhatsApp webhooks per second that our endpoint accepts (signature checked, events
 * stored once in the inbox, 200) against a bare Koa server that only checks the signature, under the same
 * closed-loop load. The whole stack runs meanwhile: the worker's dispatcher drains what we accept.
 *
 * The traffic is what a campaign brings: 8 in 10 are delivery statuses (sent, delivered, read) of messages we
 * sent, 1 in 10 is a customer's reply, 1 in 10 a redelivery of the webhook before it (deduplicated).
 */

const FIXTURE_MESSAGES = 12_000;
const CUSTOMER = '15550000001';
const statuses = ['sent', 'delivered', 'read'] as const;

function campaignTraffic(line: LineRef, appSecret: string, tag: string): (k: number) => SignedWebhook {
  let statusSeq = 0;
  let previous: SignedWebhook | undefined;
  return (k) => {
    let hook: SignedWebhook;
    if (k % 10 === 9 && previous) hook = previous;
    else if (k % 10 === 4) hook = signed(customerText(line, `1555100${String(k % 50).padStart(4, '0')}`, `wamid.bench-in-${tag}-${k}`, 'thanks!'), appSecret);
    else {
      const n = statusSeq++;
      hook = signed(statusWebhook(line, `wamid.bench-out-${1 + (Math.floor(n / 3) % FIXTURE_MESSAGES)}`, statuses[n % 3], CUSTOMER), appSecret);
    }
    previous = hook;
    return hook;
  };
}

/** Outbound message rows the statuses refer to, as the send activity would have left them. */
async function sentMessages(stack: BenchStack, tenant: BenchTenant): Promise<void> {
  const em = stack.orm.em.fork();
  const conversation = await upsertConversation(em, { tenantId: tenant.tenantId, channel: 'whatsapp', lineId: tenant.line.id, contact: CUSTOMER });
  await em.getConnection().execute(
    `insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status, provider_message_id, sent_by)
     select gen_random_uuid(), ?, ?, 'out', 'template', '[template bench]', '{}'::jsonb, 'queued', 'wamid.bench-out-' || g, 'bench'
     from generate_series(1, ?) g`,
    [tenant.tenantId, conversation.id, FIXTURE_MESSAGES],
  );
}

async function drive(
  stack: BenchStack,
  url: string,
  path: string,
  traffic: (k: number) => SignedWebhook,
  s: { concurrency: number; seconds: number },
  cpu: CpuMeter,
) {
  const client = httpClient(url, s.concurrency);
  let k = 0;
  const op = async () => {
    const hook = traffic(k++);
    return accepted(await client.post(path, hook.headers, hook.body));
  };
  try {
    await closedLoop({ concurrency: s.concurrency, durationMs: 1000, op });
    cpu.start();
    const sampler = sampleWaits(stack.orm);
    const run = await closedLoop({ concurrency: s.concurrency, durationMs: s.seconds * 1000, op });
    return { run, cores: cpu.stop(), waits: await sampler.stop() };
  } finally {
    client.close();
  }
}


export async function benchIngest(
  stack: BenchStack,
  tenant: BenchTenant,
  s: { concurrency: number; seconds: number },
  cpu: CpuMeter,
): Promise<BenchmarkReport> {
  await sentMessages(stack, tenant);
  const bare = await drive(stack, stack.bareIngestUrl, '/', campaignTraffic(tenant.line, stack.appSecret, 'bare'), s, cpu);

  const startedAt = new Date();
  const ours = await drive(stack, stack.apiUrl, '/api/webhook/whatsapp', campaignTraffic(tenant.line, stack.appSecret, 'ours'), s, cpu);
  const loadEnded = Date.now();
  const backlog = await stack.inboxPending();
  const drained = await stack.quiesce(120_000);
  const [{ n: stored }] = await stack.orm.em.getConnection().execute<{ n: string }[]>(`select count(*) as n from webhook_inbox where received_at >= ?`, [startedAt]);
  const handledPerSec = perSecond(Number(stored) - drained.inboxLeft, loadEnded + drained.ms - startedAt.getTime());

  const oursRate = perSecond(ours.run.ok, ours.run.durationMs);
  const bareRate = perSecond(bare.run.ok, bare.run.durationMs);
  const oursAck = summarize(ours.run.latenciesMs);
  const bareAck = summarize(bare.run.latenciesMs);
  return {
    id: 'ingest',
    title: 'Webhook ingest',
    figures: [
      { name: '1. webhook ingest, accepted/s', unit: '/s', ours: oursRate, baseline: bareRate, ratio: ratioOf(oursRate, bareRate), target: { atLeast: 0.5 } },
      { name: '1. webhook ack p50', unit: 'ms', ours: oursAck.p50, baseline: bareAck.p50, ratio: ratioOf(oursAck.p50, bareAck.p50) },
      { name: '1. webhook ack p99', unit: 'ms', ours: oursAck.p99, baseline: bareAck.p99, ratio: ratioOf(oursAck.p99, bareAck.p99) },
    ],
    notes: [
      `ingest: ${s.seconds} s at ${s.concurrency} concurrent after 1 s of warm-up; traffic 80 % statuses, 10 % customer messages, 10 % redeliveries.`,
      `ingest: CPU cores used, ours: ${formatCores(ours.cores)}; bare: ${formatCores(bare.cores)}.`,
      `ingest: while ours ran: ${waitsText(ours.waits)} (bare: ${bare.waits.runnable} runnable); ` +
        `${round(ours.waits.commits / Math.max(ours.run.ok, 1), 1)} database transactions per accepted webhook (API and dispatcher together).`,
      `ingest: inbox backlog when the load stopped: ${backlog} events; the dispatcher had handled all ${stored} events ` +
        `${round(drained.ms / 1000, 1)} s later (${round(handledPerSec, 0)} events/s from first webhook to empty inbox)` +
        (drained.inboxLeft ? `, ${drained.inboxLeft} still pending when the bench moved on` : '') +
        '.',
      ...(ours.run.failed || bare.run.failed ? [`ingest: failures: ours ${ours.run.failed} (${ours.run.errors.join('; ')}), bare ${bare.run.failed}.`] : []),
    ],
    details: {
      ours: { ...runDetails(ours.run, ours.cores), waits: ours.waits },
      baseline: { ...runDetails(bare.run, bare.cores), waits: bare.waits },
      inbox: { backlogAtEnd: backlog, stored: Number(stored), drainedMsAfterLoad: drained.ms, leftPending: drained.inboxLeft, handledPerSecond: round(handledPerSec, 1) },
    },
  };
}
