import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A simulator's HTTP server once it listens: where, and how to stop it (open connections included). */
export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts `server` on the port and host asked for (port 0: any free one); the URL names a host clients can reach. */
export async function listen(server: http.Server, opts: { port?: number; host?: string }): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * A simulator run as its own process: it prints one JSON line, {"event":"listening",…}, for whoever started
 * it, and stops on SIGTERM or SIGINT, or when the parent that started it with an IPC channel (the tests,
 * dev/start.ts) goes away, even if that parent was killed.
 */
export function serveUntilStopped(sim: { close(): Promise<void> }, announce: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event: 'listening', ...announce })}\n`);
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (process.send) process.once('disconnect', stop);
}

/** Runs `main` when `mod` is the program node was started with; a failure ends the process with status 1. */
export function runIfMain(mod: NodeJS.Module, main: () => Promise<void>): void {
  if (require.main !== mod) return;
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
