import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';

/**
 * The baselines' worker, its own process like ours: `node dist/bench/baseline-worker.js '<json settings>'`.
 * Its one activity posts a text message to the WhatsApp simulator, as our send activity does.
 */

export const BASELINE_TASK_QUEUE = 'bench-baseline';

export interface BaselineWorkerSettings {
  temporalAddress: string;
  simulatorUrl: string;
  accessToken: string;
  phoneNumberId: string;
  apiVersion: string;
}

export function baselineActivities(s: BaselineWorkerSettings) {
  return {
    async postToSimulator(to: string): Promise<void> {
      const res = await fetch(`${s.simulatorUrl}/${s.apiVersion}/${s.phoneNumberId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', to, type: 'text', text: { body: 'pong' } }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`simulator answered ${res.status}: ${text}`);
    },
  };
}

async function main(settings: BaselineWorkerSettings): Promise<void> {
  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const worker = await Worker.create({
    connection,
    taskQueue: BASELINE_TASK_QUEUE,
    workflowsPath: path.join(__dirname, 'baseline-workflows.js'),
    activities: baselineActivities(settings),
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.stdout.write('bench baseline worker ready\n');
  await worker.run();
  await connection.close();
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as BaselineWorkerSettings).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
