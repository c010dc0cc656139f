import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

/**
 * The baselines' workflows: the least a Temporal workflow can do for each measurement, on the same server
 * as ours. Hosted by bench/baseline-worker.ts on its own task queue.
 */

export const goSignal = defineSignal('go');

const { postToSimulator } = proxyActivities<{ postToSimulator(to: string): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
});

/** Journey starts baseline: started by signal-with-start, ends on the signal it was started with. */
export async function benchStart(): Promise<void> {
  let signalled = false;
  setHandler(goSignal, () => void (signalled = true));
  await condition(() => signalled);
}

/** Reply latency baseline: waits for a signal, then one activity sends a message to the simulator. */
export async function benchReply(to: string): Promise<void> {
  let signalled = false;
  setHandler(goSignal, () => void (signalled = true));
  await condition(() => signalled);
  await postToSimulator(to);
}
