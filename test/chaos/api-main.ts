import { loadConfig } from '../../core/config';
import { startApi } from '../../api/server';

/** The API alone in its own process, as `node dist/api/server.js` runs it: what test/chaos/stack.ts starts. */
export async function main(): Promise<void> {
  const api = await startApi(loadConfig());
  const stop = () => void api.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
