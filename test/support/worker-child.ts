import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../../core/config';
import { openOrm } from '../../core/db/orm';
import { createWorker } from '../../workers/worker';

/**
 * A Temporal worker alone in its own process, configured by the environment like the real one (no inbox
 * dispatcher, no metrics): what test/support/worker-process.ts starts, so a test can SIGKILL a worker for real.
 * Prints {"event":"running"} once it polls.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = loadConfig(env);
  const orm = await openOrm(config.databaseUrl!);
  const connection = await NativeConnection.connect({ address: config.temporal.address! });
  const worker = await createWorker({ config, orm, logger: pino({ level: 'silent' }), connection });
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  // Never outlive the test that started it, even if the test is killed.
  if (process.send) process.once('disconnect', stop);
  const running = worker.run();
  process.stdout.write(`${JSON.stringify({ event: 'running' })}\n`);
  await running;
  await connection.close();
  await orm.close();
  process.exit(0);
}
