import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { bootstrap } from './whatsapp-simulator-process';

export interface WorkerProcess {
  pid: number;
  /** SIGKILL: the worker dies at once, mid-activity, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM: the worker finishes what it runs and stops. */
  stop(): Promise<void>;
}

const workerMain = path.join(__dirname, 'worker-child.ts');

/**
 * Starts a Temporal worker (workers/worker.ts's createWorker, all workflows and activities) as a separate
 * process on the given task queue, compiled on require like the simulator, and resolves once it polls.
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-e', bootstrap(require.resolve('@swc/core'), workerMain)], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', WORKER_METRICS_PORT: '0', TEMPORAL_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start in time: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"event":"running"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return { pid: child.pid!, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/** A worker process for a journey stack: its database, Temporal task queue, simulator and secrets. */
export function startStackWorker(js: { stack: { deps: { config: { temporal: { taskQueue: string } } } }; sim: { url: string } }): Promise<WorkerProcess> {
  return startWorkerProcess({
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: js.stack.deps.config.temporal.taskQueue,
    WHATSAPP_GRAPH_URL: js.sim.url,
    // The secret box key lives under DATA_DIR: the same as the API's, so the worker can open the lines' tokens.
    DATA_DIR: process.env.TEST_TMP_DIR!,
  });
}
