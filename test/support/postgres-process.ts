import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface PostgresProcess {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** A PostgreSQL server of the test's own, which the test may stop and start again. */
export async function startPostgresProcess(database = 'flowbot'): Promise<PostgresProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbot-pg-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const child: ChildProcess = fork(path.join(__dirname, 'postgres-child.mjs'), [path.join(dir, 'pg'), String(port), database], { stdio: 'ignore' });
  let next = 0;
  const call = (action: string) =>
    new Promise<void>((resolve, reject) => {
      const id = next++;
      const onMessage = (msg: { id: number; ok: boolean; error?: string }) => {
        if (msg.id !== id) return;
        child.off('message', onMessage);
        if (msg.ok) resolve();
        else reject(new Error(`postgres ${action} failed: ${msg.error}`));
      };
      child.on('message', onMessage);
      child.send({ id, action });
    });
  await call('init');
  return {
    url: `postgresql://flowbot:flowbot@127.0.0.1:${port}/${database}`,
    start: () => call('start'),
    stop: () => call('stop'),
    async dispose() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
