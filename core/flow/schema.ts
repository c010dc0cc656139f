import { z } from 'zod';
import { flowNode, handlesOf, nodeSchemas, nodeTypes, triggerTypes, type FlowNode } from './catalogue';
import { nodeId } from './nodes/common';

export const flowEdge = z.object({
  id: z.string().min(1).max(200).optional(),
  source: nodeId,
  sourceHandle: z.string().min(1).max(100).default('next'),
  target: nodeId,
});

export type FlowEdge = z.infer<typeof flowEdge>;

const rawNode = z.object({ id: z.unknown(), type: z.unknown() }).passthrough();

/**
 * A flow graph: typed nodes and edges. Problems are reported with the node's id, so the editor (and an
 * integrator saving through the API) knows which node to fix.
 */
export const flowGraph = z
  .object({
    nodes: z.array(rawNode).max(500, 'a flow has at most 500 nodes'),
    edges: z.array(flowEdge).max(2000, 'a flow has at most 2000 edges').default([]),
  })
  .transform((graph, ctx) => {
    const nodes: FlowNode[] = [];
    graph.nodes.forEach((raw, index) => {
      const label = typeof raw.id === 'string' ? `node "${raw.id}"` : `node #${index}`;
      if (typeof raw.type !== 'string' || !(raw.type in nodeSchemas)) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'type'],
          message: `${label}: unknown node type ${JSON.stringify(raw.type)} (known: ${nodeTypes.join(', ')})`,
        });
        return;
      }
      const parsed = flowNode.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', path: ['nodes', index, ...issue.path], message: `${label}: ${issue.path.join('.')}: ${issue.message}` });
        }
        return;
      }
      nodes.push(parsed.data);
    });
    if (nodes.length !== graph.nodes.length) return z.NEVER;

    const byId = new Map<string, FlowNode>();
    nodes.forEach((node, index) => {
      if (byId.has(node.id)) ctx.addIssue({ code: 'custom', path: ['nodes', index, 'id'], message: `node "${node.id}": duplicate node id` });
      byId.set(node.id, node);
    });
    const usedExits = new Set<string>();
    graph.edges.forEach((edge, index) => {
      const source = byId.get(edge.source);
      if (!source) {
        ctx.addIssue({ code: 'custom', path: ['edges', index, 'source'], message: `edge from missing node "${edge.source}"` });
        return;
      }
      if (!byId.has(edge.target)) {
        ctx.addIssue({ code: 'custom', path: ['edges', index, 'target'], message: `node "${edge.source}": edge to missing node "${edge.target}"` });
        return;
      }
      const handles = handlesOf(source);
      if (!handles.includes(edge.sourceHandle)) {
        ctx.addIssue({
          code: 'custom',
          path: ['edges', index, 'sourceHandle'],
          message: `node "${edge.source}": has no exit "${edge.sourceHandle}" (exits: ${handles.join(', ') || 'none'})`,
        });
        return;
      }
      const exit = `${edge.source}\u0000${edge.sourceHandle}`;
      if (usedExits.has(exit)) {
        ctx.addIssue({ code: 'custom', path: ['edges', index], message: `node "${edge.source}": exit "${edge.sourceHandle}" is connected twice` });
      }
      usedExits.add(exit);
    });
    return { nodes, edges: graph.edges.map((e) => ({ ...e, id: e.id ?? `${e.source}:${e.sourceHandle}->${e.target}` })) };
  });

export type FlowGraph = z.output<typeof flowGraph>;

export const isTrigger = (node: FlowNode): boolean => triggerTypes.includes(node.type);

/** Where a journey goes from `nodeId` through exit `handle`; undefined when that exit is not connected. */
export function nextNodeId(graph: FlowGraph, nodeId: string, handle: string): string | undefined {
  return graph.edges.find((e) => e.source === nodeId && e.sourceHandle === handle)?.target;
}
