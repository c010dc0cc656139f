import type { FlowNode } from '../../core/flow/catalogue';
import type { LoadedFlow } from '../../core/journey/types';

/** Graph look-ups for the walker, kept free of the zod schema so the workflow bundle stays small. */
export const findNode = (flow: LoadedFlow, id: string): FlowNode | undefined => flow.graph.nodes.find((n) => n.id === id);

export const nextNodeId = (flow: LoadedFlow, from: string, handle: string): string | undefined =>
  flow.graph.edges.find((e) => e.source === from && (e.sourceHandle ?? 'next') === handle)?.target;

/** Where a flow starts for a given kind of trigger: that trigger's node, else the first trigger node. */
export function startNodeOf(flow: LoadedFlow, type?: string): FlowNode | undefined {
  const nodes = flow.graph.nodes;
  return (type && nodes.find((n) => n.type === type)) || nodes.find((n) => n.type.startsWith('trigger_')) || nodes[0];
}
