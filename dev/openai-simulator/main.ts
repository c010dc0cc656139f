import { startSimulator } from './server';

/**
 * The OpenAI-compatible simulator as its own process: `node dist/dev/openai-simulator/main.js`. A development
 * tool, not part of FlowBot, so it takes its own SIM_* variables rather than core/config:
 * SIM_PORT (0: any free port), SIM_HOST, SIM_API_KEYS (comma-separated keys it accepts).
 * Once listening it prints one JSON line, {"event":"listening","url":…,"baseUrl":…}, for whoever started it.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const apiKeys = (env.SIM_API_KEYS ?? 'sim-openai-key')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const sim = await startSimulator({ port: Number(env.SIM_PORT ?? 0), host: env.SIM_HOST, apiKeys });
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: sim.url, baseUrl: sim.baseUrl, port: sim.port })}\n`);
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started with an IPC channel (tests, dev/start.ts): never outlive the parent, even if it is killed.
  if (process.send) process.once('disconnect', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
