import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from '../core/temporal/search-attributes';
import { spawnManaged, waitUntil, type ManagedProcess } from './supervise';

/**
 * The Temporal dev server (`temporal server start-dev`: one process, SQLite, Web UI included) for `npm start`.
 * Its database is DATA_DIR/temporal.db, so journeys survive a restart; its output goes to logs/temporal.log.
 */

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  process: ManagedProcess;
}

export async function startTemporalDevServer(opts: {
  cli: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  logFile: string;
  signal?: AbortSignal;
  onSpawn?: (proc: ManagedProcess) => void;
}): Promise<TemporalDevServer> {
  const address = `127.0.0.1:${opts.port}`;
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(opts.dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace,
    ...devServerSearchAttributeArgs(),
  ];
  const proc = spawnManaged('Temporal dev server', opts.cli, args, { logFile: opts.logFile, stopSignal: 'SIGTERM', stopTimeoutMs: 15_000 });
  opts.onSpawn?.(proc);

  // Ready means: the frontend answers and our namespace is there (start-dev creates it during start-up).
  await waitUntil(
    'The Temporal dev server',
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: '1s' });
      try {
        await connection.workflowService.describeNamespace({ namespace: opts.namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 60_000, intervalMs: 300, signal: opts.signal, process: proc },
  );
  return { address, uiUrl: `http://localhost:${opts.uiPort}`, process: proc };
}
