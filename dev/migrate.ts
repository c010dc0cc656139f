import { Connection } from '@temporalio/client';
import { ensureAdmin, type AdminBootstrapResult } from '../core/auth/admin-bootstrap';
import { loadConfig } from '../core/config';
import { migrate, openOrm } from '../core/db/orm';
import { registerSearchAttributes } from '../core/temporal/register-search-attributes';
import { waitUntil } from './supervise';

/**
 * Makes an installation ready for the API and the workers: database schema, first administrator, Temporal
 * search attributes. `npm start` does this for the embedded stack; `node dist/dev/migrate.js` does it for any
 * other (the one-shot `migrate` service of docker-compose.yml, a release step). Safe to run again and again.
 */

export async function prepareDatabase(databaseUrl: string, admin: { username: string; password?: string }): Promise<AdminBootstrapResult> {
  const orm = await openOrm(databaseUrl);
  try {
    await migrate(orm);
    return await ensureAdmin(orm, admin);
  } finally {
    await orm.close();
  }
}

/**
 * Waits (up to `timeoutMs`) until Temporal answers and the namespace exists (a fresh cluster creates it a little
 * after it starts), then registers our search attributes in it.
 */
export async function prepareTemporal(
  address: string,
  namespace: string,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<string[]> {
  let connection: Connection | undefined;
  await waitUntil(
    `Temporal at ${address} (namespace ${namespace})`,
    async () => {
      const candidate = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await candidate.workflowService.describeNamespace({ namespace });
      } catch (err) {
        await candidate.close();
        throw err;
      }
      connection = candidate;
      return true;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 1000, signal: opts.signal },
  );
  try {
    return await registerSearchAttributes(connection!, namespace);
  } finally {
    await connection!.close();
  }
}

/** Waits (up to `timeoutMs`) until PostgreSQL at `databaseUrl` accepts a query. */
export async function waitForDatabase(databaseUrl: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  await waitUntil(
    `PostgreSQL at ${displayDatabaseUrl(databaseUrl)}`,
    async () => {
      const orm = await openOrm(databaseUrl);
      try {
        return (await orm.checkConnection()).ok;
      } finally {
        await orm.close();
      }
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 1000, signal: opts.signal },
  );
}

/** The URL without its password, for printing. */
export function displayDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return '(DATABASE_URL, not a URL)';
  }
}

/** What to tell a person about the administrator account, or nothing when it already existed. */
export function adminNotice(result: AdminBootstrapResult): string[] {
  if (!result.created) return [];
  if (!result.generatedPassword) return [`An administrator account "${result.username}" was created with the password from ADMIN_PASSWORD.`];
  return [
    'An administrator account was created. Sign in with',
    `  username: ${result.username}`,
    `  password: ${result.generatedPassword}`,
    'This password is shown only this once: keep it (or set ADMIN_PASSWORD before the very first start).',
  ];
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporal.address) throw new Error('DATABASE_URL and TEMPORAL_ADDRESS are required to prepare an installation');
  await waitForDatabase(config.databaseUrl, { timeoutMs: 60_000 });
  const admin = await prepareDatabase(config.databaseUrl, config.admin);
  console.log(`Database ${displayDatabaseUrl(config.databaseUrl)}: schema up to date.`);
  const added = await prepareTemporal(config.temporal.address, config.temporal.namespace, { timeoutMs: 60_000 });
  console.log(
    `Temporal ${config.temporal.address}, namespace ${config.temporal.namespace}: ` +
      (added.length ? `search attributes added: ${added.join(', ')}.` : 'search attributes already registered.'),
  );
  for (const line of adminNotice(admin)) console.log(line);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`Preparing the installation failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
