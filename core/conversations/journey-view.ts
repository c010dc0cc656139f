import { QueryNotRegisteredError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Config } from '../config';
import type { JourneyState } from '../journey/types';
import type { TemporalHandle } from '../temporal/connect';

/**
 * Where a conversation's journey stands, asked of the workflow itself (its `state` query) rather than of
 * a copy, and where to look at it in Temporal Web.
 */

export interface JourneyView {
  /** Null when no journey runs for the conversation (never started, ended, or Temporal could not say). */
  journey: JourneyState | null;
  /** Set when Temporal could not be asked; the rest of the answer still stands. */
  journeyError?: string;
}

const QUERY_TIMEOUT_MS = 3000;

export async function readJourney(temporal: TemporalHandle, workflowId: string, timeoutMs = QUERY_TIMEOUT_MS): Promise<JourneyView> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  try {
    return await temporal.connection.withDeadline(Date.now() + timeoutMs, async () => {
      // A query on a closed run would replay its history on a worker; a finished journey has no state to show.
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return { journey: null };
      return { journey: await handle.query<JourneyState>('state') };
    });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) return { journey: null };
    return { journey: null, journeyError: `Could not read the journey from Temporal: ${(err as Error).message}` };
  }
}

/** The journey's page in Temporal Web. */
export function temporalWebUrl(config: Pick<Config, 'temporal'>, namespace: string, workflowId: string): string {
  const base = (config.temporal.uiUrl ?? `http://localhost:${config.temporal.uiPort}`).replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
