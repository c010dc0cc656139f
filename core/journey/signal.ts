import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { TemporalHandle } from '../temporal/connect';
import { searchAttributes as sa } from '../temporal/search-attributes';
import { journeyWorkflowId } from '../temporal/workflow-ids';
import type { AgentAction, FlowTrigger, InboundMessage, JourneyKey } from './types';

/** The search attributes that name whose conversation a workflow belongs to. */
export const contactSearchAttributes = (key: JourneyKey): SearchAttributePair[] => [
  { key: sa.TenantId, value: key.tenantId },
  { key: sa.Channel, value: key.channel },
  { key: sa.LineId, value: key.lineId },
  { key: sa.Contact, value: key.contact },
];

/**
 * A trigger's source and campaign, set when its signal starts the journey: the journey, which would set the
 * same values as it starts the flow, then has nothing to upsert (a history event less).
 */
const triggerSearchAttributes = (signal: JourneySignal): SearchAttributePair[] =>
  signal.name !== 'trigger'
    ? []
    : [
        ...(signal.arg.sourceRef ? [{ key: sa.SourceRef, value: signal.arg.sourceRef }] : []),
        ...(signal.arg.campaignId ? [{ key: sa.CampaignId, value: signal.arg.campaignId }] : []),
      ];

export type JourneySignal = { name: 'inbound'; arg: InboundMessage } | { name: 'trigger'; arg: FlowTrigger } | { name: 'agent'; arg: AgentAction };

/**
 * Signal-with-start on the contact's journey: resumes the running journey or starts a new one, atomically.
 * Temporal's workflow-id uniqueness is the lock, so concurrent webhooks neither race nor duplicate.
 */
export async function signalJourney(
  temporal: TemporalHandle,
  key: JourneyKey,
  signal: JourneySignal,
  /** Only used when this starts the journey. */
  tuning: { maxHistoryEvents?: number } = {},
): Promise<{ workflowId: string; runId: string }> {
  const workflowId = journeyWorkflowId(key);
  const handle = await temporal.client.workflow.signalWithStart('journey', {
    workflowId,
    taskQueue: temporal.taskQueue,
    args: [{ ...key, ...tuning }],
    signal: signal.name,
    signalArgs: [signal.arg],
    // A journey that ended (idle for a day) may start again for the same contact.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [...contactSearchAttributes(key), { key: sa.JourneyStatus, value: 'idle' }, ...triggerSearchAttributes(signal)],
  });
  return { workflowId, runId: handle.signaledRunId };
}
