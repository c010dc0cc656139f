import { Client, Connection } from '@temporalio/client';

export interface TemporalHandle {
  client: Client;
  connection: Connection;
  namespace: string;
  taskQueue: string;
}

export async function connectTemporal(opts: { address: string; namespace: string; taskQueue: string }): Promise<TemporalHandle> {
  const connection = await Connection.connect({ address: opts.address, connectTimeout: '5s' });
  const client = new Client({ connection, namespace: opts.namespace });
  return { client, connection, namespace: opts.namespace, taskQueue: opts.taskQueue };
}

/** True when the Temporal frontend answers within `timeoutMs`. */
export async function temporalIsUp(handle: TemporalHandle, timeoutMs = 2000): Promise<boolean> {
  try {
    await handle.connection.withDeadline(Date.now() + timeoutMs, () =>
      handle.connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
    );
    return true;
  } catch {
    return false;
  }
}
