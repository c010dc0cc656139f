import type { MikroORM } from '@mikro-orm/postgresql';
import type Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { loadConfig } from '../../core/config';
import { openOrm } from '../../core/db/orm';
import { connectTemporal, type TemporalHandle } from '../../core/temporal/connect';

export interface TestStack {
  deps: ApiDeps;
  orm: MikroORM;
  temporal: TemporalHandle;
  app: Koa;
  openApi: Record<string, unknown>;
  http: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

let taskQueueCounter = 0;

/**
 * The real API in-process against the run's PostgreSQL and Temporal. Each test file gets its own task
 * queue, so a worker started by one file never picks up another file's workflows.
 */
export async function openTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `test-${process.pid}-${Date.now()}-${taskQueueCounter++}`,
    DATA_DIR: process.env.TEST_TMP_DIR,
    TRUST_PROXY: 'true',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const orm = await openOrm(config.databaseUrl!);
  const temporal = await connectTemporal({ address: config.temporal.address!, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  const deps: ApiDeps = { config: { ...config, jwtSecret: 'test-secret-0123456789abcdef' }, orm, temporal, logger: pino({ level: 'silent' }) };
  const { app, openApi } = buildApp(deps);
  const server = app.callback();
  return {
    deps,
    orm,
    temporal,
    app,
    openApi,
    http: () => request(server),
    async close() {
      await temporal.connection.close();
      await orm.close();
    },
  };
}
