import { z } from 'zod';
import { handlesOf } from './catalogue';
import { flowGraph, type FlowGraph } from './schema';

/**
 * Drawflow's JSON (`{drawflow: {Home: {data: {id: {name, data, inputs, outputs, pos_x, pos_y}}}}}`), the
 * format the seed's editor stores. A node's `name` is our node type; `output_N` is the node's N-th exit
 * (see `handlesOf`). Editor-only fields (class, html, typenode, …) ride along in `ui`, so a Drawflow
 * document survives import and export unchanged.
 */
const connection = z.object({ node: z.union([z.string(), z.number()]).transform(String) }).passthrough();
const port = z.object({ connections: z.array(connection).default([]) }).passthrough();

const drawflowNode = z
  .object({
    id: z.union([z.string(), z.number()]),
    name: z.string(),
    data: z.record(z.string(), z.unknown()).default({}),
    inputs: z.record(z.string(), port).default({}),
    outputs: z.record(z.string(), port).default({}),
    pos_x: z.number().default(0),
    pos_y: z.number().default(0),
  })
  .passthrough();

export const drawflowDocument = z.object({
  drawflow: z
    .object({ Home: z.object({ data: z.record(z.string(), drawflowNode) }) })
    .passthrough()
    .refine(
      (modules) =>
        Object.entries(modules).every(([name, m]) => name === 'Home' || m === null || typeof m !== 'object' || Object.keys((m as { data?: object }).data ?? {}).length === 0),
      { message: 'only the Home module is supported' },
    ),
});

export type DrawflowDocument = z.input<typeof drawflowDocument>;

const outputIndex = (key: string): number | undefined => {
  const m = /^output_(\d+)$/.exec(key);
  return m ? Number(m[1]) - 1 : undefined;
};

const standardKeys = new Set(['id', 'name', 'data', 'inputs', 'outputs', 'pos_x', 'pos_y']);

/** Drawflow → our graph, validated by the flow schema; a problem is thrown as the schema's ZodError. */
export function fromDrawflow(input: unknown): FlowGraph {
  const doc = drawflowDocument.parse(input);
  const entries = Object.values(doc.drawflow.Home.data);
  const nodes = entries.map((n) => {
    const ui = Object.fromEntries(Object.entries(n).filter(([k]) => !standardKeys.has(k)));
    if (typeof n.id === 'number') ui.numericId = true;
    return { id: String(n.id), type: n.name, position: { x: n.pos_x, y: n.pos_y }, data: n.data, ...(Object.keys(ui).length ? { ui } : {}) };
  });
  // Validate the nodes first, so that exits can be named from each node's parsed data.
  const parsedNodes = flowGraph.parse({ nodes, edges: [] }).nodes;
  const byId = new Map(parsedNodes.map((n) => [n.id, n]));
  const edges: Array<{ source: string; sourceHandle: string; target: string }> = [];
  for (const n of entries) {
    const source = byId.get(String(n.id))!;
    const handles = handlesOf(source);
    for (const [key, out] of Object.entries(n.outputs)) {
      const index = outputIndex(key);
      for (const c of out.connections) {
        const handle = index === undefined ? undefined : handles[index];
        edges.push({ source: source.id, sourceHandle: handle ?? key, target: c.node });
      }
    }
  }
  return flowGraph.parse({ nodes, edges });
}

/** Our graph → Drawflow, with inputs and outputs on both ends of every edge as Drawflow expects. */
export function toDrawflow(graph: FlowGraph): { drawflow: { Home: { data: Record<string, unknown> } } } {
  const data: Record<string, Record<string, unknown>> = {};
  const handleIndex = new Map<string, string[]>();
  for (const node of graph.nodes) handleIndex.set(node.id, handlesOf(node));
  for (const node of graph.nodes) {
    const { numericId, ...ui } = (node.ui ?? {}) as { numericId?: boolean } & Record<string, unknown>;
    const outputs: Record<string, { connections: Array<{ node: string; output: string }> }> = {};
    handleIndex.get(node.id)!.forEach((handle, i) => {
      outputs[`output_${i + 1}`] = {
        connections: graph.edges.filter((e) => e.source === node.id && e.sourceHandle === handle).map((e) => ({ node: e.target, output: 'input_1' })),
      };
    });
    const incoming = graph.edges.filter((e) => e.target === node.id);
    const inputs = node.type.startsWith('trigger_')
      ? {}
      : {
          input_1: {
            connections: incoming.map((e) => ({ node: e.source, input: `output_${handleIndex.get(e.source)!.indexOf(e.sourceHandle) + 1}` })),
          },
        };
    data[node.id] = {
      id: numericId ? Number(node.id) : node.id,
      name: node.type,
      data: node.data,
      ...ui,
      inputs,
      outputs,
      pos_x: node.position.x,
      pos_y: node.position.y,
    };
  }
  return { drawflow: { Home: { data } } };
}
