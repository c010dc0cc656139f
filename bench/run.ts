import os from 'node:os';
import path from 'node:path';
import { benchCampaigns } from './campaigns';
import { benchIngest } from './ingest';
import { cpuMeter } from './procs';
import { benchReplyLatency, prepareReplyProbe } from './reply-latency';
import { judged, machine, table, verdict, writeResults, type BenchmarkReport } from './report';
import { benchScale } from './scale';
import { openStack } from './stack';
import { benchStarts, TRIGGERS_PER_TENANT } from './starts';
import { adminSession, createTenant, createTenants, inboundFlow, outboundFlow } from './tenants';

/**
 * `npm run bench`: starts a private stack, runs the benchmarks one after another, prints a table and writes
 * bench/results.json. Every figure is a ratio against a baseline measured in the same run on this machine.
 * Exits 0 even when a target is missed: it is a report, not a test.
 */

export interface BenchSettings {
  concurrency: number;
  ingestSeconds: number;
  starts: number;
  replySamples: number;
  replyContacts: number;
  waiting: number;
  campaignRecipients: number;
  /** The benchmarks to run (BENCH_ONLY=reply,scale); all when empty. */
  only: string[];
}

export const benchmarkIds = ['ingest', 'starts', 'reply', 'scale', 'campaigns'] as const;

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

function chosen(raw: string | undefined): string[] {
  const ids = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(benchmarkIds as readonly string[]).includes(id));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(', ')}; choose from ${benchmarkIds.join(', ')}`);
  return ids;
}

export function settingsFrom(env: NodeJS.ProcessEnv): BenchSettings {
  const starts = positive(env, 'BENCH_STARTS', 300);
  return {
    concurrency: positive(env, 'BENCH_CONCURRENCY', 32),
    ingestSeconds: positive(env, 'BENCH_INGEST_SECONDS', 6),
    // Whole tenants' worth, since each tenant may trigger 30 a minute.
    starts: Math.ceil(starts / TRIGGERS_PER_TENANT) * TRIGGERS_PER_TENANT,
    replySamples: positive(env, 'BENCH_REPLY_SAMPLES', 300),
    replyContacts: positive(env, 'BENCH_REPLY_CONTACTS', 20),
    waiting: positive(env, 'BENCH_WAITING', 2000),
    campaignRecipients: positive(env, 'BENCH_CAMPAIGN_RECIPIENTS', 1200),
    only: chosen(env.BENCH_ONLY),
  };
}

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<void> {
  const startLoad = os.loadavg();
  const settings = settingsFrom(process.env);
  const started = Date.now();
  log(`settings: ${JSON.stringify(settings)}; load average ${startLoad.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
  const stack = await openStack(log);
  const stop = () => {
    log('interrupted: stopping the stack');
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const reports: BenchmarkReport[] = [];
  try {
    log('creating tenants, lines and flows through the API');
    const admin = await adminSession(stack.apiUrl, stack.admin);
    const simulatorToken = stack.sim.accessToken;
    const wanted = (id: (typeof benchmarkIds)[number]) => settings.only.length === 0 || settings.only.includes(id);
    const ingestTenant = await createTenant(stack.apiUrl, admin, { name: 'bench_ingest', simulatorToken });
    const replyTenant = await createTenant(stack.apiUrl, admin, { name: 'bench_reply', simulatorToken, graph: inboundFlow });
    const startTenants = wanted('starts')
      ? await createTenants(stack.apiUrl, admin, 1 + settings.starts / TRIGGERS_PER_TENANT, { prefix: 'bench_start', simulatorToken, graph: outboundFlow })
      : [];
    const campaignTenant = await createTenant(stack.apiUrl, admin, { name: 'bench_campaign', simulatorToken });
    const cpu = cpuMeter(() => stack.pids());

    const run = async (id: (typeof benchmarkIds)[number], title: string, bench: () => Promise<BenchmarkReport>) => {
      if (!wanted(id)) return;
      log(`running: ${title}`);
      const t = Date.now();
      try {
        reports.push(await bench());
      } catch (err) {
        reports.push({ id: title, title, figures: [], notes: [`${title}: failed: ${(err as Error).message}`], details: {}, error: (err as Error).message });
      }
      log(`done: ${title} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    };
    await run('ingest', '1. webhook ingest', () => benchIngest(stack, ingestTenant, { concurrency: settings.concurrency, seconds: settings.ingestSeconds }, cpu));
    await run('starts', '2. journey starts', () => benchStarts(stack, startTenants, { concurrency: settings.concurrency, starts: settings.starts }, cpu));
    const probe = wanted('reply') || wanted('scale') ? await prepareReplyProbe(stack, replyTenant, settings.replyContacts) : undefined;
    await run('reply', '3. reply latency', () => benchReplyLatency(stack, probe!, { samples: settings.replySamples }));
    await run('scale', '5. scale', () => benchScale(stack, probe!, { waiting: settings.waiting, concurrency: settings.concurrency, samples: settings.replySamples }));
    // Last: it clears the simulator's record of messages, and leaves it enforcing the line rate.
    await run('campaigns', '4. campaign pacing', () => benchCampaigns(stack, campaignTenant, { recipients: settings.campaignRecipients }, cpu));
  } finally {
    log('stopping the stack');
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stack.close();
  }

  const info = machine(startLoad);
  const out: string[] = [];
  out.push(`FlowBot benchmarks, ${info.date}: ${info.cpus} x ${info.cpuModel}, ${info.memoryGiB} GiB, ${info.platform}, Node ${info.node}`);
  out.push(`load average at start ${info.loadAverageAtStart.join(' ')}, at end ${info.loadAverageAtEnd.join(' ')}; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  out.push(`API and worker run as in production (${Object.entries(stack.settingsShown).map(([k, v]) => `${k}=${v}`).join(' ')}; AUTH_RATE_LIMIT only for signing in the bench's tenants)`);
  out.push('');
  out.push(table(reports));
  out.push('');
  for (const r of reports) out.push(...r.notes.map((n) => `  ${n}`));
  const missed = reports.flatMap((r) => (r.error ? [r.title] : r.figures.filter((f) => verdict(f) === 'MISSED').map((f) => f.name)));
  out.push('');
  out.push(missed.length ? `MISSED: ${missed.join('; ')}` : 'All targets met.');
  const resultsFile = path.join(__dirname, '..', '..', 'bench', 'results.json');
  writeResults(resultsFile, {
    machine: info,
    settings,
    serviceSettings: stack.settingsShown,
    durationSec: Math.round((Date.now() - started) / 1000),
    benchmarks: reports.map((r) => ({ id: r.id, title: r.title, error: r.error, figures: r.figures.map(judged), notes: r.notes, details: r.details })),
    missed,
  });
  out.push(`Raw numbers: ${path.relative(process.cwd(), resultsFile) || resultsFile}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
