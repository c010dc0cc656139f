import { NativeConnection, type Worker } from '@temporalio/worker';
import type { MikroORM } from '@mikro-orm/postgresql';
import pino from 'pino';
import type { Config } from '../../core/config';
import { createWorker } from '../../workers/worker';

export interface InProcessWorker {
  worker: Worker;
  /** Lets the running tasks finish, then closes the worker's connection. */
  stop(): Promise<void>;
}

/** The real worker (workflows and activities), in the test's own process, on the shared Temporal server. */
export async function startInProcessWorker(opts: { config: Config; orm: MikroORM }): Promise<InProcessWorker> {
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const worker = await createWorker({ config: opts.config, orm: opts.orm, logger: pino({ level: 'silent' }), connection });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
