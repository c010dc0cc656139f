import { startSmsSimulator } from './server';
import { runIfMain, serveUntilStopped } from '../simulators/serve';

export const defaultSimulatorAccountSid = 'AC00000000000000000000000000000000';
export const defaultSimulatorAuthToken = 'flowbot-sms-simulator-token';

/**
 * The SMS simulator as its own process: `node dist/dev/sms-simulator/main.js`. A development tool, not part of
 * FlowBot, so it takes its own variables: SIM_PORT (0: any free port), SIM_HOST, SIM_ACCOUNT_SID,
 * SIM_AUTH_TOKEN. Once listening it prints one JSON line, {"event":"listening","url":…}, for whoever started it.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const accountSid = env.SIM_ACCOUNT_SID || defaultSimulatorAccountSid;
  const sim = await startSmsSimulator({
    port: Number(env.SIM_PORT ?? 0),
    host: env.SIM_HOST,
    accounts: { [accountSid]: env.SIM_AUTH_TOKEN || defaultSimulatorAuthToken },
  });
  serveUntilStopped(sim, { url: sim.url, port: sim.port });
}

runIfMain(module, () => main());
