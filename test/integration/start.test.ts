import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stablePort } from '../support/free-port';

/**
 * `npm start` as a new user meets it: the compiled dev/start.js on a fresh DATA_DIR brings up its own
 * PostgreSQL and Temporal dev server (not the ones of the test run), then the API and the worker.
 */

const root = path.resolve(__dirname, '..', '..');
const startJs = path.join(root, 'dist', 'dev', 'start.js');

class StartedStack {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (!this.running) throw new Error(`start.js exited (${this.child.exitCode}) before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`start.js did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await sleep(200);
    }
  }

  /** Ctrl-C, then the exit code, or 'timeout' if it is still running after `timeoutMs`. */
  async interrupt(timeoutMs: number): Promise<number | null | 'timeout'> {
    this.child.kill('SIGINT');
    return Promise.race([this.exited, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
  }
}

/** Rebuilds dist/ when a source file is newer than it, so the test never runs yesterday's start.js. */
function ensureBuilt(): void {
  const newestSource = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(newest, newestSource(full));
      return entry.name.endsWith('.ts') ? Math.max(newest, fs.statSync(full).mtimeMs) : newest;
    }, 0);
  const sources = Math.max(...['core', 'api', 'workers', 'workflows', 'activities', 'dev'].map((d) => newestSource(path.join(root, d))));
  if (fs.existsSync(startJs) && fs.statSync(startJs).mtimeMs >= sources) return;
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    // Type errors still emit JavaScript; `npm test` reports them in its own typecheck step.
    if (!fs.existsSync(startJs)) throw err;
  }
}

/** Safety net when a test failed midway: whatever still runs on our DATA_DIR (the children are detached). */
function killLeftovers(dataDir: string): void {
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(dataDir) || environ.includes(`DATA_DIR=${dataDir}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone, or not ours to read.
    }
  }
}

describe('npm start (dev/start.js) on embedded defaults', () => {
  let tmp: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;
  const stacks: StartedStack[] = [];
  let adminPassword: string;

  const launch = () => {
    const stack = new StartedStack(spawn(process.execPath, [startJs], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    stacks.push(stack);
    return stack;
  };
  const login = (password: string) =>
    fetch(`${apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });

  beforeAll(async () => {
    ensureBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-start-'));
    // As root, PostgreSQL runs as the `postgres` user, who must be able to enter this folder.
    fs.chmodSync(tmp, 0o755);
    dataDir = path.join(tmp, 'data');
    const port = await stablePort();
    apiUrl = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await stablePort()),
      TEMPORAL_PORT: String(await stablePort()),
      TEMPORAL_UI_PORT: String(await stablePort()),
      WHATSAPP_SIMULATOR_PORT: String(await stablePort()),
      OPENAI_SIMULATOR_PORT: String(await stablePort()),
      SMS_SIMULATOR_PORT: String(await stablePort()),
      WORKER_METRICS_PORT: String(await stablePort()),
      TEMPORAL_METRICS_PORT: String(await stablePort()),
      LOG_LEVEL: 'warn',
    };
    for (const name of ['ADMIN_PASSWORD', 'ADMIN_USERNAME', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'JWT_SECRET', 'PUBLIC_URL', 'WHATSAPP_GRAPH_URL', 'WHATSAPP_SIMULATOR', 'META_APP_SECRET', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_SIMULATOR', 'SMS_SIMULATOR']) delete env[name];
  }, 60_000);

  afterAll(async () => {
    for (const stack of stacks.filter((s) => s.running)) {
      if ((await stack.interrupt(20_000)) === 'timeout') stack.child.kill('SIGKILL');
    }
    killLeftovers(dataDir);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('brings up PostgreSQL, Temporal, the API and the worker, and prints a generated admin password once', async () => {
    const first = launch();
    const printed = await first.waitForOutput(/password: (\S+)/, 50_000);
    adminPassword = printed[1];
    await first.waitForOutput(/Press Ctrl-C to stop/, 10_000);
    expect(first.output).toContain(`API           http://localhost:${env.PORT}`);
    expect(first.output).toContain(`Temporal Web  http://localhost:${env.TEMPORAL_UI_PORT}`);
    expect(first.output).toMatch(new RegExp(`postgresql://flowbot@127\\.0\\.0\\.1:${env.EMBEDDED_PG_PORT}/flowbot`));

    const health = await fetch(`${apiUrl}/api/health`);
    expect(health.status).toBe(200);
    expect((await login(adminPassword)).status).toBe(200);

    // The WhatsApp simulator runs beside it, signing its webhooks with the secret the API checks.
    const simUrl = `http://127.0.0.1:${env.WHATSAPP_SIMULATOR_PORT}`;
    expect(first.output).toContain(`WhatsApp simulator  ${simUrl}`);
    const inbound = await fetch(`${simUrl}/_sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '972501234567', phoneNumberId: '1234567', text: 'hi' }),
    });
    expect(inbound.status).toBe(200);
    const delivered = (await inbound.json()) as { webhook: { delivered: boolean } };
    expect(delivered.webhook.delivered).toBe(true);

    // And the OpenAI simulator, as the installation's AI provider: a flow can be generated offline.
    expect(first.output).toContain(`OpenAI simulator    http://127.0.0.1:${env.OPENAI_SIMULATOR_PORT}/v1`);
    const cookie = (await login(adminPassword)).headers.get('set-cookie')!.split(';')[0];
    const form = new FormData();
    form.set('prompt', 'Create a support flow for a pizza restaurant');
    const generated = await fetch(`${apiUrl}/api/flows/generate`, { method: 'POST', headers: { cookie }, body: form });
    expect(generated.status).toBe(200);
    expect(((await generated.json()) as { nodeCount: number }).nodeCount).toBeGreaterThan(1);

    // And the SMS simulator, which takes a Twilio send with the account and token it prints.
    const smsUrl = `http://127.0.0.1:${env.SMS_SIMULATOR_PORT}`;
    const printedSms = /SMS simulator\s+(\S+) [^\n]*\n\s+in Settings → SMS fallback: base URL \S+, account (\S+), auth token (\S+)/.exec(first.output);
    expect(printedSms?.[1]).toBe(smsUrl);
    const [, , accountSid, authToken] = printedSms!;
    const sms = await fetch(`${smsUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: '+972501234567', From: '+15550001111', Body: 'hello' }).toString(),
    });
    expect(sms.status).toBe(201);
    const accepted = (await (await fetch(`${smsUrl}/_sim/messages?to=%2B972501234567`)).json()) as Array<{ body: string }>;
    expect(accepted.map((m) => m.body)).toEqual(['hello']);
  }, 60_000);

  it('stops everything on Ctrl-C and exits 0', async () => {
    const first = stacks[0];
    expect(await first.interrupt(30_000)).toBe(0);
    expect(first.output).toContain('FlowBot stopped.');
    await expect(fetch(`${apiUrl}/api/health`)).rejects.toThrow();
  }, 40_000);

  it('keeps the data on the next start: the same admin password works and none is printed', async () => {
    const second = launch();
    await second.waitForOutput(/Press Ctrl-C to stop/, 50_000);
    expect(second.output).not.toMatch(/password:/);
    expect((await login(adminPassword)).status).toBe(200);
    expect(await second.interrupt(30_000)).toBe(0);
  }, 90_000);
});

describe('configuration', () => {
  it('documents every variable that core/config.ts reads in .env.example', () => {
    const schema = fs.readFileSync(path.join(root, 'core', 'config.ts'), 'utf8');
    const read = [...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+): z\b/gm)].map((m) => m[1]);
    const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });
});
