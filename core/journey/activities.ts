import type { InboundMessage, JourneyKey, JourneyStatus, LoadedFlow, OutboundSend } from './types';

/** The activities the journey workflow calls; implemented in activities/journey/. Types only. */
export interface JourneyActivities {
  loadFlow(input: { tenantId: string; flowId: string; version?: number }): Promise<LoadedFlow>;
  matchInboundTrigger(input: { tenantId: string; lineId: string; message: InboundMessage }): Promise<{ flowId: string; version: number; graph?: LoadedFlow['graph'] } | null>;
  sendMessage(input: OutboundSend): Promise<{ messageId: string; providerMessageId: string | null }>;
  callHttp(input: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
    timeoutSeconds: number;
  }): Promise<{ ok: boolean; status: number; data: unknown }>;
  recordJourney(input: {
    key: JourneyKey;
    workflowId: string;
    flowId?: string;
    version?: number;
    currentNode?: string;
    status: JourneyStatus;
  }): Promise<void>;
}
