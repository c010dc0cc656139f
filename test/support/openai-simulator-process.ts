import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { RecordedRequest, SimulatorConfig } from '../../dev/openai-simulator/state';
import { bootstrap } from './whatsapp-simulator-process';
import { simulatorControl } from '../../dev/simulators/control-client';

export interface OpenAiSimulatorProcess {
  /** Origin of the simulator; the control API is under {url}/_sim/. */
  url: string;
  /** The API base URL (`{url}/v1`), for the openai client's baseURL, OPENAI_BASE_URL or a provider's baseUrl. */
  baseUrl: string;
  /** A key the simulator accepts. */
  apiKey: string;
  /** What it received, in order; optionally only one endpoint's (`/v1/chat/completions`). */
  requests(path?: string): Promise<RecordedRequest[]>;
  configure(patch: Partial<SimulatorConfig>): Promise<SimulatorConfig>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const simulatorMain = path.join(__dirname, '..', '..', 'dev', 'openai-simulator', 'main.ts');

/** Starts the OpenAI-compatible simulator as a separate process, as in development. */
export async function startOpenAiSimulator(opts: { apiKey?: string } = {}): Promise<OpenAiSimulatorProcess> {
  const apiKey = opts.apiKey ?? 'sk-sim-test-0123456789';
  const child: ChildProcess = spawn(process.execPath, ['-e', bootstrap(require.resolve('@swc/core'), simulatorMain)], {
    env: { ...process.env, SIM_PORT: '0', SIM_API_KEYS: apiKey },
    // The IPC channel is only there so the simulator exits when this process goes away.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));

  const started = await new Promise<{ url: string; baseUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openai simulator did not start in time: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`openai simulator exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string; baseUrl?: string };
        if (msg.event === 'listening' && msg.url && msg.baseUrl) {
          clearTimeout(timer);
          resolve({ url: msg.url, baseUrl: msg.baseUrl });
        }
      } catch {
        // not the announcement
      }
    });
  });

  const call = simulatorControl(started.url, 'openai simulator');

  return {
    ...started,
    apiKey,
    requests: (only) => call('GET', `requests${only ? `?path=${encodeURIComponent(only)}` : ''}`),
    configure: (patch) => call('POST', 'config', patch),
    reset: () => call('POST', 'reset'),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
