/**
 * What crosses the boundary between the API, the journey workflow and its activities. Types only (and
 * plain data), so workflow code can import them without pulling in I/O.
 */
import type { FlowEdge } from '../flow/schema';
import type { FlowNode } from '../flow/catalogue';

export type Channel = 'whatsapp';

export interface JourneyKey {
  tenantId: string;
  channel: Channel;
  lineId: string;
  /** The customer's address on the channel: an E.164 number without "+" for WhatsApp (Meta's wa_id). */
  contact: string;
}

export interface LoadedFlow {
  flowId: string;
  version: number;
  graph: { nodes: FlowNode[]; edges: FlowEdge[] };
}

export type Variables = Record<string, string>;

export interface InboundMessage {
  messageId: string;
  kind: 'text' | 'choice' | 'media' | 'other';
  text?: string;
  /** The id of the button or list row the customer picked, or a template quick-reply payload. */
  choiceId?: string;
  customerName?: string;
  receivedAt: string;
}

/** What to do when a contact who is already in a flow is triggered again. */
export type BusyPolicy = 'supersede' | 'skip' | 'queue';

export interface FlowTrigger {
  /** Unique per request; a redelivered trigger with the same id is ignored. */
  triggerId: string;
  flowId: string;
  version?: number;
  /** The published `version` itself, when the caller has it at hand: the journey need not load it. */
  flow?: LoadedFlow;
  /** Start at this node instead of the flow's trigger node (e.g. the API Lead Trigger node). */
  startNodeType?: 'trigger_outbound' | 'trigger_api_lead' | 'trigger_api' | 'trigger_inbound';
  variables: Variables;
  policy: BusyPolicy;
  /** Send this approved template first (the 24 h window is closed), then continue in the flow. */
  template?: { name?: string; templateId?: string; templateGroupId?: string; language: string; params: string[] };
  sourceRef?: string;
  campaignId?: string;
}

export type AgentAction = { action: 'claim'; userId: string } | { action: 'release'; userId: string } | { action: 'close'; userId: string };

export type JourneyStatus = 'idle' | 'running' | 'waiting' | 'paused' | 'completed' | 'failed' | 'superseded';

export interface JourneyState {
  flowId?: string;
  version?: number;
  currentNode?: string;
  status: JourneyStatus;
  waitingFor?: 'reply' | 'timer' | 'agent';
  waitUntil?: number;
  variables: Variables;
  paused: boolean;
  queued: number;
  lastError?: string;
  history: Array<{ flowId: string; version: number; outcome: JourneyStatus; at: number; reason?: string }>;
}

export interface OutboundSend {
  key: JourneyKey;
  /** Deterministic per journey step, so a retried activity finds the row it already wrote. */
  idempotencyKey: string;
  nodeId?: string;
  flowId?: string;
  /** Who sends it, stored on the message row: the agent's user id; default 'bot' for a journey step, else 'agent'. */
  sentBy?: string;
  /** The trigger's sourceRef and campaignId, stored on the message row so its delivery can be looked up. */
  sourceRef?: string;
  campaignId?: string;
  message: OutboundMessage;
  /**
   * Set by a send that runs as a local activity, inside the journey's workflow task: when the line's (or the
   * recipient's) next slot is further away than this, the send fails with `line_busy` instead of waiting, and
   * the journey hands it to a (remote) activity, which may wait as long as the governor says.
   */
  maxLineWaitMs?: number;
}

export type OutboundMessage =
  | { type: 'text'; text: string; previewUrl?: boolean }
  | { type: 'media'; mediaType: 'image' | 'video' | 'document' | 'audio'; url: string; caption?: string; filename?: string }
  | { type: 'template'; name?: string; templateId?: string; templateGroupId?: string; language: string; params: string[] }
  | { type: 'buttons'; text: string; buttons: Array<{ id: string; title: string }> }
  | { type: 'list'; text: string; buttonLabel: string; rows: Array<{ id: string; title: string; description?: string }> };
