import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { simulatorControl } from '../../dev/simulators/control-client';
import type { InboundRequest } from '../../dev/whatsapp-simulator/payloads';
import type { RecordedMessage, RecordedRead, RecordedRejection, RecordedWebhook, SimTemplate, SimulatorConfig } from '../../dev/whatsapp-simulator/state';

export interface SimulatorProcess {
  /** The Graph base URL to give createWhatsAppClient / WHATSAPP_GRAPH_URL. */
  url: string;
  appSecret: string;
  accessToken: string;
  /** What the simulator accepted, in order. */
  messages(filter?: { to?: string; phoneNumberId?: string }): Promise<RecordedMessage[]>;
  reads(): Promise<RecordedRead[]>;
  /** Sends it refused with an error (rate limits, injected failures), optionally of one Graph code. */
  rejections(filter?: { code?: number }): Promise<RecordedRejection[]>;
  /** Webhooks it posted and the answers it got, optionally only those about one message or of one kind. */
  webhooks(filter?: { messageId?: string; kind?: string }): Promise<RecordedWebhook[]>;
  /** A customer writes: the simulator posts the signed webhook and answers once it was delivered. */
  inbound(req: InboundRequest): Promise<{ wamid: string; webhook: RecordedWebhook }>;
  /** Posts a webhook of any other field (account_update, message_template_status_update, …). */
  event(field: string, value: unknown): Promise<{ webhook: RecordedWebhook }>;
  configure(patch: Partial<SimulatorConfig>): Promise<SimulatorConfig>;
  /** The message templates it holds, of every WABA. */
  templates(): Promise<SimTemplate[]>;
  /** A template as if made in Meta's own tools (APPROVED unless a status is given). */
  seedTemplate(t: { wabaId: string; name: string; language: string; status?: SimTemplate['status']; category?: string }): Promise<SimTemplate>;
  /** Resolves when no status webhook is pending. */
  settled(): Promise<void>;
  /** Forgets everything and restores the starting configuration. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const simulatorMain = path.join(__dirname, '..', '..', 'dev', 'whatsapp-simulator', 'main.ts');

/**
 * Tests do not build dist/, and Node's own type stripping cannot run our CommonJS-style sources (extension-
 * less relative imports), so the child compiles each .ts file on require with @swc/core — the compiler jest
 * already uses — registered by this small bootstrap before loading the simulator's main.
 */
export const bootstrap = (swcPath: string, mainPath: string) => `
const fs = require('node:fs');
const swc = require(${JSON.stringify(swcPath)});
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, sourceMaps: 'inline', module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
  });
  module._compile(code, filename);
};
require(${JSON.stringify(mainPath)}).main().catch((err) => { console.error(err); process.exit(1); });
`;

/** Starts the WhatsApp Cloud API simulator as a separate process, as in development. */
export async function startWhatsAppSimulator(opts: { webhookUrl?: string; appSecret?: string; accessToken?: string } = {}): Promise<SimulatorProcess> {
  const appSecret = opts.appSecret ?? 'test-app-secret';
  const accessToken = opts.accessToken ?? 'test-access-token';
  const child: ChildProcess = spawn(process.execPath, ['-e', bootstrap(require.resolve('@swc/core'), simulatorMain)], {
    env: { ...process.env, SIM_PORT: '0', SIM_WEBHOOK_URL: opts.webhookUrl ?? '', SIM_APP_SECRET: appSecret, SIM_ACCESS_TOKEN: accessToken },
    // The IPC channel is only there so the simulator exits when this process goes away.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Meta's servers are not starved by our test run: on a busy 2-core machine a simulator that waits for CPU
  // would stamp queued requests as one burst and count rate errors that never happened on the wire.
  try {
    os.setPriority(child.pid!, -10);
  } catch {
    // Raising priority needs root; without it the simulator runs at normal priority.
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`whatsapp simulator did not start in time: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`whatsapp simulator exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // not the announcement
      }
    });
  });

  const call = simulatorControl(url);
  const query = (filter: Record<string, string | undefined> = {}) => {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return q ? `?${q}` : '';
  };

  return {
    url,
    appSecret,
    accessToken,
    messages: (filter) => call('GET', `messages${query(filter)}`),
    reads: () => call('GET', 'reads'),
    rejections: (filter) => call('GET', `rejections${query({ code: filter?.code?.toString() })}`),
    webhooks: (filter) => call('GET', `webhooks${query(filter)}`),
    inbound: (req) => call('POST', 'inbound', req),
    event: (field, value) => call('POST', 'events', { field, value }),
    configure: (patch) => call('POST', 'config', patch),
    templates: () => call('GET', 'templates'),
    seedTemplate: (t) => call('POST', 'templates', t),
    settled: () => call('GET', 'settled'),
    reset: () => call('POST', 'reset'),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
