import { startSimulator } from './server';
import { runIfMain, serveUntilStopped } from '../simulators/serve';

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
  serveUntilStopped(sim, { url: sim.url, baseUrl: sim.baseUrl, port: sim.port });
}

runIfMain(module, () => main());
