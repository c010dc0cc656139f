import { z } from 'zod';
import { aiReply } from './nodes/ai';
import { buttons, list, sendMedia, sendTemplate, sendText } from './nodes/messages';
import { condition, end, gotoFlow, handoff, httpRequest, question, setVariable, wait } from './nodes/logic';
import { triggerApi, triggerApiLead, triggerInbound, triggerOutbound } from './nodes/triggers';

/** The node catalogue: one schema per type; the union of them is the node schema. */
export const nodeSchemas = {
  trigger_inbound: triggerInbound,
  trigger_outbound: triggerOutbound,
  trigger_api_lead: triggerApiLead,
  trigger_api: triggerApi,
  send_text: sendText,
  send_media: sendMedia,
  send_template: sendTemplate,
  buttons,
  list,
  question,
  condition,
  set_variable: setVariable,
  wait,
  http_request: httpRequest,
  handoff,
  goto_flow: gotoFlow,
  end,
  ai_reply: aiReply,
} as const;

export type NodeType = keyof typeof nodeSchemas;
export const nodeTypes = Object.keys(nodeSchemas) as NodeType[];
export const triggerTypes: readonly NodeType[] = ['trigger_inbound', 'trigger_outbound', 'trigger_api_lead', 'trigger_api'];

export const flowNode = z.discriminatedUnion('type', [
  triggerInbound,
  triggerOutbound,
  triggerApiLead,
  triggerApi,
  sendText,
  sendMedia,
  sendTemplate,
  buttons,
  list,
  question,
  condition,
  setVariable,
  wait,
  httpRequest,
  handoff,
  gotoFlow,
  end,
  aiReply,
]);

export type FlowNode = z.infer<typeof flowNode>;
export type NodeOf<T extends NodeType> = Extract<FlowNode, { type: T }>;

/**
 * The named exits of a node, in order. An edge leaves from one of them; Drawflow's `output_N` is the N-th.
 * Choices get one exit each so that every button or row can lead somewhere else.
 */
export function handlesOf(node: FlowNode): string[] {
  switch (node.type) {
    case 'buttons':
      return node.data.buttons.map((b) => `button:${b.id}`);
    case 'list':
      return node.data.rows.map((r) => `row:${r.id}`);
    case 'question':
      return ['next', 'invalid'];
    case 'condition':
      return ['true', 'false'];
    case 'wait':
      return node.data.mode === 'reply' ? ['next', 'timeout'] : ['next'];
    case 'http_request':
      return ['success', 'error'];
    case 'ai_reply':
      return ['answered', 'handoff'];
    case 'end':
    case 'goto_flow':
      return [];
    default:
      return ['next'];
  }
}
