import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { aiDepsFromConfig } from '../activities/ai';
import { createWhatsAppClient } from '../activities/channels/whatsapp';
import { governedWhatsAppClient } from '../activities/channels/whatsapp/governed';
import { RateGovernor, type GovernorOptions } from '../core/channels/rate-governor';
import { logCodeSender } from '../activities/notify/code-sender';
import { secretBoxFor } from '../core/crypto/secret-box';
import { loadConfig, type Config } from '../core/config';
import { openOrm } from '../core/db/orm';
import { createLogger } from '../core/logger';
import { connectTemporal } from '../core/temporal/connect';
import { journeyInboxHandlers } from './handlers';
import { runInboxDispatcher } from './inbox-dispatcher';
import { serveMetrics } from './metrics-server';
import type { Registry } from 'prom-client';
import { createRegistry, inboxMetrics, sendMetrics } from '../core/metrics/registry';
import { outboundFetch } from '../core/net/outbound-guard';

/** Workflow code is bundled from source in development and tests, from the compiled file in production. */
export const workflowsPath = (): string => {
  const compiled = path.join(__dirname, '..', 'workflows', 'index.js');
  return __filename.endsWith('.ts') ? path.join(__dirname, '..', 'workflows', 'index.ts') : compiled;
};

const temporalLevels: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN' };

/**
 * The SDK logs and measures through its process-wide Runtime, which must be installed before the first
 * connection: its logs follow LOG_LEVEL like the rest of the worker, its metrics go to TEMPORAL_METRICS_PORT.
 */
export function installRuntime(config: Config, opts: { metrics?: boolean } = {}): void {
  const port = config.temporalMetricsPort;
  try {
    Runtime.install({
      logger: new DefaultLogger(temporalLevels[config.logLevel] ?? 'ERROR'),
      ...(opts.metrics && port > 0 ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${port}` } } } } : {}),
    });
  } catch {
    // Installed already in this process (another worker, or a test file before this one): keep it.
  }
}

export async function createWorker(opts: {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  connection: NativeConnection;
  activities?: Partial<ReturnType<typeof createActivities>>;
  /** Where the worker's own metrics (sends by line and outcome) are registered. */
  registry?: Registry;
  /** Overrides of the send governor's defaults (tests). */
  governor?: Partial<GovernorOptions>;
}): Promise<Worker> {
  const base = createActivities({
    orm: opts.orm,
    codeSender: logCodeSender(opts.logger),
    box: secretBoxFor(opts.config),
    // Every message send waits for its line's slot (core/channels/rate-governor.ts), shared by all workers.
    whatsapp: governedWhatsAppClient(
      createWhatsAppClient({ graphUrl: opts.config.whatsapp.graphUrl, apiVersion: opts.config.whatsapp.apiVersion }),
      new RateGovernor(opts.orm, opts.governor),
    ),
    ai: aiDepsFromConfig(opts.config),
    tenantFetch: outboundFetch(opts.config.outbound),
    uploadsDir: opts.config.uploads.dir,
    sends: opts.registry ? sendMetrics(opts.registry) : undefined,
  });
  const activities = { ...base, ...opts.activities };
  installRuntime(opts.config);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.config.temporal.taskQueue,
    workflowsPath: workflowsPath(),
    activities,
    // The SDK's default grows with the heap limit (about 2,400 here), so memory grew with every waiting journey.
    maxCachedWorkflows: opts.config.workerMaxCachedWorkflows,
  });
}

/** The worker process: Temporal worker and inbox dispatcher; exported for tests that run it as a child (test/chaos). */
export async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporal.address) throw new Error('DATABASE_URL and TEMPORAL_ADDRESS are required to start the worker');
  const logger = createLogger(config.logLevel, 'worker');
  installRuntime(config, { metrics: true });
  const orm = await openOrm(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const registry = createRegistry('worker');
  inboxMetrics(registry, () => orm.em.fork());
  const metricsServer = config.workerMetricsPort > 0 ? await serveMetrics(registry, config.workerMetricsPort) : undefined;
  const worker = await createWorker({ config, orm, logger, connection, registry });
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  // Beside the Temporal worker: drains webhook_inbox, and keeps it (rows wait) while Temporal is down.
  const temporal = await connectTemporal({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  const stopDispatcher = new AbortController();
  const dispatcher = runInboxDispatcher({
    orm,
    logger: logger.child({ component: 'inbox-dispatcher' }),
    handlers: journeyInboxHandlers({ orm, temporal, delivery: config.delivery }),
    signal: stopDispatcher.signal,
  });
  try {
    await worker.run();
  } finally {
    stopDispatcher.abort();
    await dispatcher;
  }
  metricsServer?.close();
  await temporal.connection.close();
  await connection.close();
  await orm.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
