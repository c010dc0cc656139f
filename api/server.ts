import http from 'node:http';
import { loadConfig, type Config } from '../core/config';
import { openOrm } from '../core/db/orm';
import { createLogger } from '../core/logger';
import { loadOrCreateJwtSecret } from '../core/secrets';
import { connectTemporal } from '../core/temporal/connect';
import { buildApp } from './app';

/** Starts the API on the configured port. Migrations are the starter's job (dev/start or a release step). */
export async function startApi(config: Config): Promise<{ server: http.Server; close: () => Promise<void> }> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required to start the API');
  if (!config.temporal.address) throw new Error('TEMPORAL_ADDRESS is required to start the API');
  if (config.env === 'production' && !config.jwtSecret) throw new Error('JWT_SECRET is required in production');
  const logger = createLogger(config.logLevel, 'api');
  const orm = await openOrm(config.databaseUrl);
  const temporal = await connectTemporal({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  const jwtSecret = loadOrCreateJwtSecret(config.dataDir, config.jwtSecret);
  const { app } = buildApp({ config: { ...config, jwtSecret }, orm, temporal, logger });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  logger.info({ port: config.port }, 'API listening');
  return {
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await temporal.connection.close();
      await orm.close();
    },
  };
}

if (require.main === module) {
  startApi(loadConfig())
    .then(({ close }) => {
      const stop = () => void close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
