import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentAction, FlowTrigger, InboundMessage, JourneyState } from '../../core/journey/types';

/** A customer message, sent by the webhook dispatcher with signal-with-start. */
export const inboundSignal = defineSignal<[InboundMessage]>('inbound');
/** Start a flow for this contact (outbound trigger, lead, campaign). */
export const triggerSignal = defineSignal<[FlowTrigger]>('trigger');
/** An agent claims, releases or closes the conversation. */
export const agentSignal = defineSignal<[AgentAction]>('agent');
export const cancelSignal = defineSignal<[string]>('cancel');
export const stateQuery = defineQuery<JourneyState>('state');
