import { handlesOf } from './catalogue';
import { isTrigger, type FlowGraph } from './schema';

/** Canvas spacing of the Drawflow editor: a column per step, a row per branch. */
export const layoutSpacing = { column: 320, row: 180, marginX: 60, marginY: 60 } as const;

/**
 * Positions a graph tidily on the canvas, left to right: each node's column is its distance (in edges) from
 * the nearest trigger, found breadth-first; within a column nodes keep the order in which they were reached
 * (a node's exits in their own order), so branches fan out top to bottom as the editor draws the exits.
 * Columns are centred on the tallest one. Nodes no trigger reaches go in one last column. Pure: returns a new
 * graph with only `position` changed.
 */
export function layoutGraph(graph: FlowGraph): FlowGraph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const handles = handlesOf(node);
    const edges = graph.edges.filter((e) => e.source === node.id);
    // Follow the exits in the node's own order, so the first button's branch is drawn on top.
    edges.sort((a, b) => rank(handles, a.sourceHandle) - rank(handles, b.sourceHandle));
    out.set(node.id, edges.map((e) => e.target).filter((t) => byId.has(t)));
  }

  const column = new Map<string, number>();
  const order: string[] = [];
  const queue = graph.nodes.filter(isTrigger).map((n) => n.id);
  for (const id of queue) column.set(id, 0);
  if (queue.length === 0 && graph.nodes.length) {
    queue.push(graph.nodes[0].id);
    column.set(graph.nodes[0].id, 0);
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    order.push(id);
    for (const next of out.get(id) ?? []) {
      if (column.has(next)) continue;
      column.set(next, column.get(id)! + 1);
      queue.push(next);
    }
  }
  const reachedColumns = Math.max(-1, ...column.values()) + 1;
  for (const node of graph.nodes) {
    if (column.has(node.id)) continue;
    column.set(node.id, reachedColumns);
    order.push(node.id);
  }

  const columns: string[][] = [];
  for (const id of order) (columns[column.get(id)!] ??= []).push(id);
  const tallest = Math.max(0, ...columns.map((c) => c?.length ?? 0));
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((ids, c) => {
    const offset = ((tallest - ids.length) * layoutSpacing.row) / 2;
    ids.forEach((id, r) => position.set(id, { x: layoutSpacing.marginX + c * layoutSpacing.column, y: layoutSpacing.marginY + offset + r * layoutSpacing.row }));
  });
  return { ...graph, nodes: graph.nodes.map((n) => ({ ...n, position: position.get(n.id)! })) };
}

const rank = (handles: string[], handle: string): number => {
  const i = handles.indexOf(handle);
  return i === -1 ? handles.length : i;
};
