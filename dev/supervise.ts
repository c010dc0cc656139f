import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The small process toolkit behind `npm start`: start a service as a child process, know when it dies, stop it
 * politely and then firmly, and wait for it to answer.
 *
 * Every child runs in its own process group (`detached`), so the Ctrl-C that a terminal sends to the whole
 * foreground group reaches only dev/start, which then stops the children in order (API and worker, then
 * Temporal, then PostgreSQL) instead of all of them dying at once.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Settles when the process has ended, for whatever reason. */
  readonly exited: Promise<ExitInfo>;
  /** How it ended, once it has. */
  exitInfo(): ExitInfo | undefined;
  /** The stop signal, then SIGKILL to its whole group if it is still there after the grace period. */
  stop(): Promise<ExitInfo>;
  /** Sends the stop signal and does not wait: for the last moments of a process that is exiting anyway. */
  signalStop(): void;
  /** SIGKILL to its whole process group, now. */
  kill(): void;
  /** The last lines it printed, when its output goes to a log file. */
  logTail(): string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Append stdout and stderr to this file (and keep the last lines for error messages); else share ours. */
  logFile?: string;
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
}

const TAIL_CHARS = 4000;

export function spawnManaged(name: string, command: string, args: string[], opts: SpawnOptions = {}): ManagedProcess {
  const stopSignal = opts.stopSignal ?? 'SIGTERM';
  const stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;
  let tail = '';
  let log: fs.WriteStream | undefined;
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  }
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    uid: opts.uid,
    gid: opts.gid,
    detached: true,
    stdio: ['ignore', log ? 'pipe' : 'inherit', log ? 'pipe' : 'inherit'],
  });
  const capture = (chunk: Buffer) => {
    if (log && !log.writableEnded) log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      // Only a failure to start ends the process here; a failed kill() of a running child also lands here.
      if (child.pid === undefined) {
        info ??= { code: null, signal: null, error };
        if (log && !log.writableEnded) log.end();
        resolve(info);
      }
    });
    child.once('exit', (code, signal) => {
      info ??= { code, signal };
      resolve(info);
    });
    // Not at 'exit': what the process wrote just before it died may still be in the pipe then.
    child.once('close', () => {
      if (log && !log.writableEnded) log.end();
    });
  });

  const signalGroup = (signal: NodeJS.Signals) => {
    if (info || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  return {
    name,
    pid: child.pid,
    exited,
    exitInfo: () => info,
    logTail: () => lastLines(tail, 25),
    signalStop() {
      if (!info) child.kill(stopSignal);
    },
    kill: () => signalGroup('SIGKILL'),
    async stop() {
      if (info) return info;
      child.kill(stopSignal);
      const done = await Promise.race([exited, sleep(stopTimeoutMs, undefined, { ref: false })]);
      if (done) return done;
      signalGroup('SIGKILL');
      return exited;
    },
  };
}

export function describeExit(info: ExitInfo): string {
  if (info.error) return info.error.message;
  if (info.signal) return `killed by ${info.signal}`;
  return `exit code ${info.code}`;
}

function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  if (lines.length > 1 && text.length === TAIL_CHARS) lines.shift(); // a cut line
  return lines.slice(-count).join('\n').trimEnd();
}

/** Polls `check` until it returns true; fails on timeout, when `signal` aborts, or when `process` dies first. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; process?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const ended = opts.process?.exitInfo();
    if (ended) throw new Error(`${opts.process!.name} stopped while starting (${describeExit(ended)})`);
    const ok = await check().catch((err: Error) => {
      lastError = err.message.split('\n')[0];
      return false;
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} was not ready within ${Math.round(opts.timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** Fails with a message that names the setting to change when something already listens on `port`. */
export async function assertPortFree(port: number, host: string, what: string, setting: string): Promise<void> {
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (!error) return;
  if (error.code === 'EADDRINUSE') {
    throw new Error(`Port ${port} (${what}) is already in use: stop what is using it, or choose another port with ${setting}=...`);
  }
  throw new Error(`Cannot use port ${port} (${what}) on ${host}: ${error.message}`);
}
