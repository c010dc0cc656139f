import { startSimulator } from './server';
import { runIfMain, serveUntilStopped } from '../simulators/serve';

/**
 * The simulator as its own process: `node dist/dev/whatsapp-simulator/main.js`. It is a development tool,
 * not part of FlowBot, so it takes its own SIM_* variables rather than core/config:
 * SIM_PORT (0: any free port), SIM_HOST, SIM_WEBHOOK_URL, SIM_APP_SECRET, SIM_ACCESS_TOKEN, SIM_WABA_ID, SIM_APP_ID.
 * Once listening it prints one JSON line, {"event":"listening","url":…}, for whoever started it.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const sim = await startSimulator({
    port: Number(env.SIM_PORT ?? 0),
    host: env.SIM_HOST,
    webhookUrl: env.SIM_WEBHOOK_URL || undefined,
    appSecret: env.SIM_APP_SECRET ?? 'simulator-app-secret',
    accessToken: env.SIM_ACCESS_TOKEN ?? 'simulator-access-token',
    wabaId: env.SIM_WABA_ID,
    appId: env.SIM_APP_ID || undefined,
  });
  serveUntilStopped(sim, { url: sim.url, port: sim.port });
}

runIfMain(module, () => main());
