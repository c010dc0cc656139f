import type { FlowNode, NodeOf, NodeType } from '../../../core/flow/catalogue';
import type { InboundMessage, JourneyKey, OutboundMessage, Variables } from '../../../core/journey/types';

export type Outcome =
  | { kind: 'next'; handle: string }
  | { kind: 'wait_reply'; timeoutSeconds?: number; timeoutHandle?: string }
  | { kind: 'wait_timer'; seconds: number; handle: string }
  | { kind: 'handoff' }
  | { kind: 'goto_flow'; flowId: string }
  | { kind: 'end' }
  | { kind: 'fail'; reason: string };

export interface NodeContext<N extends FlowNode> {
  node: N;
  /** Whose journey this is (the tenant, line and customer), for activities that need it. */
  key: JourneyKey;
  variables: Variables;
  /** Per-node scratch state that survives waits (e.g. how many times a question was re-asked). */
  memory: Record<string, number>;
  /** Resolves with the message row's id once the message is sent. */
  send(message: OutboundMessage): Promise<{ messageId: string }>;
  /** Whether the node's exit `handle` leads to another node. */
  connected(handle: string): boolean;
  callHttp(input: { method: string; url: string; headers: Record<string, string>; body?: string; timeoutSeconds: number }): Promise<{
    ok: boolean;
    status: number;
    data: unknown;
  }>;
}

export interface NodeHandler<N extends FlowNode> {
  enter(ctx: NodeContext<N>): Promise<Outcome>;
  /** For nodes that wait for the customer: what their reply means. */
  reply?(ctx: NodeContext<N>, message: InboundMessage): Promise<Outcome>;
}

/** A handler for every node type; a missing one is a compile error. */
export type HandlerRegistry = { [T in NodeType]: NodeHandler<NodeOf<T>> };
