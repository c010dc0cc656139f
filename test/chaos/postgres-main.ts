import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { prepareDatabase } from '../../dev/migrate';
import type { ManagedProcess } from '../../dev/supervise';

/**
 * PostgreSQL for the chaos tests, started exactly as `npm start` starts it (dev/embedded-postgres.ts) and
 * driven over IPC: `start` (answers the database URL; with `admin`, also migrates and creates the first
 * administrator, as `npm start` does), `kill` (SIGKILL to the server and its backends, as in a crash). A
 * process of its own because Jest's module system cannot load the ESM-only embedded-postgres package.
 */
type Request =
  | { id: number; action: 'start'; dataDir: string; port: number; logFile: string; admin?: { username: string; password: string } }
  | { id: number; action: 'kill' };

export async function main(): Promise<void> {
  let server: ManagedProcess | undefined;
  const actions = {
    async start(req: Extract<Request, { action: 'start' }>) {
      const pg = await startEmbeddedPostgres({ dataDir: req.dataDir, port: req.port, logFile: req.logFile });
      server = pg.process;
      if (req.admin) await prepareDatabase(pg.databaseUrl, req.admin);
      return { url: pg.databaseUrl };
    },
    async kill() {
      server?.kill();
      await server?.exited;
      server = undefined;
      return {};
    },
  };
  process.on('message', (req: Request) => {
    const run = req.action === 'start' ? actions.start(req) : actions.kill();
    run.then(
      (result) => process.send!({ id: req.id, ok: true, ...result }),
      (err: Error) => process.send!({ id: req.id, ok: false, error: err.message }),
    );
  });
  // Never outlive the test that started it.
  process.once('disconnect', () => void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(0)));
}
