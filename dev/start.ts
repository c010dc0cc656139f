import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../core/config';
import { loadOrCreateJwtSecret } from '../core/secrets';
import { startEmbeddedPostgres } from './embedded-postgres';
import { adminNotice, displayDatabaseUrl, prepareDatabase, prepareTemporal, waitForDatabase } from './migrate';
import { assertPortFree, describeExit, spawnManaged, waitUntil, type ManagedProcess } from './supervise';
import { startTemporalDevServer } from './temporal-dev-server';
import { resolveTemporalCli } from './tools';
import { defaultSimulatorAccountSid, defaultSimulatorAuthToken } from './sms-simulator/main';
import { defaultSimulatorAppId } from './whatsapp-simulator/onboarding';

/**
 * `npm start`: the whole stack on one machine. PostgreSQL (embedded) and the Temporal dev server unless
 * DATABASE_URL / TEMPORAL_ADDRESS point at existing ones, then migrations and the first administrator, then
 * the API and the worker as child processes. Ctrl-C (or SIGTERM) stops it all in reverse order and exits 0;
 * if any part dies on its own, everything stops and the exit code is 1. Data stays in DATA_DIR.
 */

/** Compiled code lives in dist/; the API and the worker are started from there. */
const distDir = __filename.endsWith('.ts') ? path.resolve(__dirname, '..', 'dist') : path.resolve(__dirname, '..');

/** Stop order: higher layers first, the processes of one layer together. */
const LAYER = { database: 1, temporal: 2, app: 3 } as const;

/** Everything started so far, and the one decision to stop it. */
class Stack {
  private readonly parts: { proc: ManagedProcess; layer: number }[] = [];
  private readonly controller = new AbortController();
  private reason?: { code: number };
  private onStopRequested!: () => void;
  /** Settles when a signal arrives or a part dies. */
  readonly stopRequested = new Promise<void>((resolve) => (this.onStopRequested = resolve));

  /** Aborts any wait in progress once stopping has been decided. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get exitCode(): number {
    return this.reason?.code ?? 0;
  }

  get stopping(): boolean {
    return this.reason !== undefined;
  }

  add(proc: ManagedProcess, layer: number): void {
    this.parts.push({ proc, layer });
    void proc.exited.then((info) => {
      if (this.stopping) return;
      const tail = proc.logTail();
      this.requestStop(1, `${proc.name} stopped unexpectedly (${describeExit(info)}).${tail ? `\nIts last output:\n${indent(tail)}` : ''}`);
    });
  }

  requestStop(code: number, message?: string): void {
    if (this.reason) return;
    this.reason = { code };
    if (message) console.error(`\n${message}`);
    this.controller.abort();
    this.onStopRequested();
  }

  async stopAll(): Promise<void> {
    const layers = [...new Set(this.parts.map((p) => p.layer))].sort((a, b) => b - a);
    for (const layer of layers) {
      const running = this.parts.filter((p) => p.layer === layer && !p.proc.exitInfo());
      if (running.length === 0) continue;
      say(`Stopping ${running.map((p) => p.proc.name).join(' and ')} ...`);
      await Promise.all(running.map((p) => p.proc.stop()));
    }
  }

  /** Last resort, when we are exiting without having stopped them: ask each to stop on its own. */
  signalStopAll(): void {
    for (const { proc } of this.parts) proc.signalStop();
  }

  killAll(): void {
    for (const { proc } of this.parts) proc.kill();
  }
}

interface RunningStack {
  apiUrl: string;
  temporalUiUrl?: string;
  temporalAddress: string;
  temporalKind: string;
  databaseDisplay: string;
  databaseKind: string;
  /** Whether anything writes logs under DATA_DIR (the embedded PostgreSQL or dev server). */
  hasLogs: boolean;
  adminLines: string[];
  simulator?: RunningSimulator;
  aiSimulator?: { baseUrl: string; apiKey: string };
  smsSimulator?: RunningSmsSimulator;
}

async function bringUp(config: Config, stack: Stack): Promise<RunningStack> {
  const { signal } = stack;
  fs.mkdirSync(config.dataDir, { recursive: true });
  const logsDir = path.join(config.dataDir, 'logs');

  // Fail early, with the setting to change, rather than with a child's stack trace.
  if (!config.databaseUrl) await assertPortFree(config.embeddedPgPort, '127.0.0.1', 'embedded PostgreSQL', 'EMBEDDED_PG_PORT');
  if (!config.temporal.address) {
    await assertPortFree(config.temporal.port, '127.0.0.1', 'Temporal dev server', 'TEMPORAL_PORT');
    await assertPortFree(config.temporal.uiPort, '127.0.0.1', 'Temporal Web UI', 'TEMPORAL_UI_PORT');
  }
  await assertPortFree(config.port, config.host, 'API', 'PORT');
  if (config.workerMetricsPort > 0) await assertPortFree(config.workerMetricsPort, '0.0.0.0', "worker's metrics", 'WORKER_METRICS_PORT');
  if (config.temporalMetricsPort > 0) await assertPortFree(config.temporalMetricsPort, '0.0.0.0', "Temporal SDK's metrics", 'TEMPORAL_METRICS_PORT');
  if (config.openaiSimulator.enabled) await assertPortFree(config.openaiSimulator.port, '127.0.0.1', 'OpenAI simulator', 'OPENAI_SIMULATOR_PORT');
  if (config.whatsappSimulator.enabled) await assertPortFree(config.whatsappSimulator.port, '127.0.0.1', 'WhatsApp simulator', 'WHATSAPP_SIMULATOR_PORT');
  if (config.smsSimulator.enabled) await assertPortFree(config.smsSimulator.port, '127.0.0.1', 'SMS simulator', 'SMS_SIMULATOR_PORT');

  let databaseUrl: string;
  let databaseDisplay: string;
  let databaseKind: string;
  if (config.databaseUrl) {
    databaseUrl = config.databaseUrl;
    databaseDisplay = displayDatabaseUrl(databaseUrl);
    databaseKind = 'from DATABASE_URL';
    say(`Using PostgreSQL at ${databaseDisplay}`);
    await waitForDatabase(databaseUrl, { timeoutMs: 20_000, signal });
  } else {
    say(`Starting PostgreSQL (embedded, port ${config.embeddedPgPort}) ...`);
    const pg = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      logFile: path.join(logsDir, 'postgres.log'),
      signal,
      onSpawn: (proc) => stack.add(proc, LAYER.database),
    });
    databaseUrl = pg.databaseUrl;
    databaseDisplay = pg.displayUrl;
    databaseKind = `embedded, data in ${pg.dataDir}`;
  }

  let temporalAddress: string;
  let temporalUiUrl: string | undefined;
  let temporalKind: string;
  if (config.temporal.address) {
    temporalAddress = config.temporal.address;
    temporalUiUrl = config.temporal.uiUrl;
    temporalKind = 'from TEMPORAL_ADDRESS';
    say(`Using Temporal at ${temporalAddress}, namespace ${config.temporal.namespace}`);
  } else {
    say(`Starting the Temporal dev server (port ${config.temporal.port}, Web UI ${config.temporal.uiPort}) ...`);
    const temporal = await startTemporalDevServer({
      cli: resolveTemporalCli(config.temporal.cli),
      dataDir: config.dataDir,
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
      namespace: config.temporal.namespace,
      logFile: path.join(logsDir, 'temporal.log'),
      signal,
      onSpawn: (proc) => stack.add(proc, LAYER.temporal),
    });
    temporalAddress = temporal.address;
    temporalUiUrl = config.temporal.uiUrl ?? temporal.uiUrl;
    temporalKind = `dev server, data in ${path.join(config.dataDir, 'temporal.db')}`;
  }
  // The dev server got them on its command line; an existing cluster gets them here. Both: idempotent.
  await prepareTemporal(temporalAddress, config.temporal.namespace, { timeoutMs: 20_000, signal });

  say('Migrating the database ...');
  const admin = await prepareDatabase(databaseUrl, config.admin);
  signal.throwIfAborted();

  const localHost = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const apiBase = `http://${localHost.includes(':') ? `[${localHost}]` : localHost}:${config.port}`;
  const simulator = config.whatsappSimulator.enabled ? await startSimulator(config, apiBase, logsDir, stack) : undefined;
  const aiSimulator = config.openaiSimulator.enabled ? await startOpenAiSimulator(config, logsDir, stack) : undefined;
  const smsSimulator = config.smsSimulator.enabled ? await startSmsSimulator(config, logsDir, stack) : undefined;

  say('Starting the API and the worker ...');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: config.dataDir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    JWT_SECRET: loadOrCreateJwtSecret(config.dataDir, config.jwtSecret),
    ...(simulator ? { WHATSAPP_GRAPH_URL: simulator.url, META_APP_SECRET: simulator.appSecret, META_APP_ID: simulator.appId } : {}),
    ...(aiSimulator ? { OPENAI_BASE_URL: aiSimulator.baseUrl, OPENAI_API_KEY: aiSimulator.apiKey } : {}),
  };
  const api = spawnManaged('API', process.execPath, [path.join(distDir, 'api', 'server.js')], { env });
  stack.add(api, LAYER.app);
  const worker = spawnManaged('Worker', process.execPath, [path.join(distDir, 'workers', 'worker.js')], { env });
  stack.add(worker, LAYER.app);

  const healthUrl = `${apiBase}/api/health`;
  await waitUntil('The API', async () => (await fetch(healthUrl, { signal: AbortSignal.timeout(2000) })).status === 200, {
    timeoutMs: 60_000,
    signal,
    process: api,
  });

  return {
    apiUrl: (config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/$/, ''),
    temporalUiUrl,
    temporalAddress,
    temporalKind,
    databaseDisplay,
    databaseKind,
    hasLogs: !config.databaseUrl || !config.temporal.address,
    adminLines: adminNotice(admin),
    simulator,
    aiSimulator,
    smsSimulator,
  };
}

/**
 * Starts one of the simulators (dev/<dir>/main.js) on 127.0.0.1:`port` with its own SIM_* variables, and waits
 * until `readyPath` answers. Returns its base URL.
 */
async function runSimulator(
  name: string,
  dir: string,
  opts: { port: number; env: Record<string, string>; readyPath: string; logsDir: string; stack: Stack },
): Promise<string> {
  say(`Starting the ${name} (port ${opts.port}) ...`);
  const sim = spawnManaged(name, process.execPath, [path.join(distDir, 'dev', dir, 'main.js')], {
    env: { ...process.env, SIM_PORT: String(opts.port), SIM_HOST: '127.0.0.1', ...opts.env },
    logFile: path.join(opts.logsDir, `${dir}.log`),
  });
  opts.stack.add(sim, LAYER.app);
  const url = `http://127.0.0.1:${opts.port}`;
  await waitUntil(`The ${name}`, async () => (await fetch(`${url}${opts.readyPath}`, { signal: AbortSignal.timeout(2000) })).ok, {
    timeoutMs: 20_000,
    signal: opts.stack.signal,
    process: sim,
  });
  return url;
}

/** The OpenAI-compatible simulator: flow generation and embeddings answer offline, deterministically. */
async function startOpenAiSimulator(config: Config, logsDir: string, stack: Stack): Promise<{ baseUrl: string; apiKey: string }> {
  const apiKey = 'flowbot-openai-simulator-key';
  const url = await runSimulator('OpenAI simulator', 'openai-simulator', {
    port: config.openaiSimulator.port,
    env: { SIM_API_KEYS: apiKey },
    readyPath: '/_sim/requests',
    logsDir,
    stack,
  });
  return { baseUrl: `${url}/v1`, apiKey };
}

interface RunningSmsSimulator {
  url: string;
  accountSid: string;
  authToken: string;
}

/**
 * The SMS simulator (Twilio's API and its signed status callbacks), so the SMS fallback can be tried without a
 * provider: point an account's SMS settings at it with the printed account and token.
 */
async function startSmsSimulator(config: Config, logsDir: string, stack: Stack): Promise<RunningSmsSimulator> {
  const url = await runSimulator('SMS simulator', 'sms-simulator', {
    port: config.smsSimulator.port,
    env: { SIM_ACCOUNT_SID: defaultSimulatorAccountSid, SIM_AUTH_TOKEN: defaultSimulatorAuthToken },
    readyPath: '/_sim/messages',
    logsDir,
    stack,
  });
  return { url, accountSid: defaultSimulatorAccountSid, authToken: defaultSimulatorAuthToken };
}

interface RunningSimulator {
  url: string;
  appSecret: string;
  appId: string;
  accessToken: string;
}

/**
 * The WhatsApp Cloud API simulator, so a journey can be tried without Meta: add a line with any phone
 * number id and the printed access token, then make a customer write with POST {url}/_sim/inbound.
 */
async function startSimulator(config: Config, apiBase: string, logsDir: string, stack: Stack): Promise<RunningSimulator> {
  const appSecret = config.whatsapp.appSecret ?? 'flowbot-simulator-app-secret';
  const appId = config.whatsapp.appId ?? defaultSimulatorAppId;
  const accessToken = 'flowbot-simulator-token';
  const url = await runSimulator('WhatsApp simulator', 'whatsapp-simulator', {
    port: config.whatsappSimulator.port,
    env: { SIM_WEBHOOK_URL: `${apiBase}/api/webhook/whatsapp`, SIM_APP_SECRET: appSecret, SIM_APP_ID: appId, SIM_ACCESS_TOKEN: accessToken },
    readyPath: '/_sim/settled',
    logsDir,
    stack,
  });
  return { url, appSecret, appId, accessToken };
}

function printSummary(config: Config, up: RunningStack): void {
  const rows: [string, string][] = [
    ['API', up.apiUrl],
    ['API docs', `${up.apiUrl}/docs`],
    ['Temporal Web', up.temporalUiUrl ?? '(set TEMPORAL_UI_URL to show it here)'],
    ['Temporal', `${up.temporalAddress}, namespace ${config.temporal.namespace} (${up.temporalKind})`],
    ['Database', `${up.databaseDisplay} (${up.databaseKind})`],
    ['Data', up.hasLogs ? `${config.dataDir} (logs in ${path.join(config.dataDir, 'logs')})` : config.dataDir],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = ['', 'FlowBot is running.', '', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
  if (up.simulator) {
    lines.push(
      '',
      `  WhatsApp simulator  ${up.simulator.url} (WHATSAPP_SIMULATOR=false to turn it off)`,
      `    add a line in Settings → WhatsApp with any phone number id and access token ${up.simulator.accessToken};`,
      `    a customer writes with: curl -X POST ${up.simulator.url}/_sim/inbound -H 'Content-Type: application/json' \\`,
      `      -d '{"from":"972501234567","phoneNumberId":"YOUR_PHONE_NUMBER_ID","text":"hi"}'`,
    );
  }
  if (up.aiSimulator) {
    lines.push('', `  OpenAI simulator    ${up.aiSimulator.baseUrl} (OPENAI_SIMULATOR=false to turn it off; OPENAI_BASE_URL for a real provider)`);
  }
  if (up.smsSimulator) {
    lines.push(
      '',
      `  SMS simulator       ${up.smsSimulator.url} (SMS_SIMULATOR=false to turn it off)`,
      `    in Settings → SMS fallback: base URL ${up.smsSimulator.url}, account ${up.smsSimulator.accountSid}, auth token ${up.smsSimulator.authToken}`,
    );
  }
  if (up.adminLines.length) lines.push('', ...up.adminLines.map((l) => `  ${l}`));
  lines.push('', 'Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));
}

function say(message: string): void {
  console.log(message);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n');
}

async function main(): Promise<void> {
  const stack = new Stack();
  let firstSignalAt = 0;
  const onSignal = (name: NodeJS.Signals) => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      say(`\n${name} received: stopping FlowBot (press Ctrl-C again to force) ...`);
      stack.requestStop(0);
    } else if (Date.now() - firstSignalAt > 1000) {
      // The same signal often arrives twice at once (terminal and npm); a second one later means "now".
      console.error('Forced stop: killing everything.');
      stack.killAll();
      process.exit(1);
    }
  };
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, onSignal);
  // A closed terminal or pipe (EPIPE) must not cut the orderly shutdown short.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  process.on('exit', () => stack.signalStopAll());

  let config: Config;
  try {
    // Settings kept in ./.env (see .env.example) count as if exported; what is exported wins.
    if (fs.existsSync('.env')) process.loadEnvFile('.env');
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }

  try {
    const up = await bringUp(config, stack);
    printSummary(config, up);
  } catch (err) {
    // Once stopping was decided (a signal, a part that died), what fails afterwards is a consequence, not news.
    if (!stack.stopping) stack.requestStop(1, `FlowBot could not start: ${(err as Error).message}`);
  }
  await stack.stopRequested;
  await stack.stopAll();
  say(stack.exitCode === 0 ? 'FlowBot stopped.' : 'FlowBot stopped after an error.');
  process.exit(stack.exitCode);
}

void main();
