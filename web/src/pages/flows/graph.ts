import type { Edge, Node } from '@xyflow/react';
import type { Graph, GraphNode } from '../../api';
import { exitsOf } from './catalogue';

/** What a canvas node carries: the flow node's type, its data (the form's fields) and editor-only extras. */
export type StepData = { type: string; data: Record<string, unknown>; ui?: Record<string, unknown> };
export type StepNode = Node<StepData, 'step'>;

export const TARGET_HANDLE = 'in';

export const edgeId = (source: string, sourceHandle: string, target: string): string => `${source}:${sourceHandle}->${target}`;

export function toCanvas(graph: Graph): { nodes: StepNode[]; edges: Edge[] } {
  return {
    nodes: graph.nodes.map((n: GraphNode) => ({
      id: n.id,
      type: 'step',
      position: n.position ?? { x: 0, y: 0 },
      data: { type: n.type, data: n.data ?? {}, ...(n.ui ? { ui: n.ui } : {}) },
    })),
    edges: graph.edges.map((e) => ({
      id: e.id ?? edgeId(e.source, e.sourceHandle, e.target),
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: TARGET_HANDLE,
    })),
  };
}

export function fromCanvas(nodes: StepNode[], edges: Edge[]): Graph {
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.type,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      data: n.data.data,
      ...(n.data.ui ? { ui: n.data.ui } : {}),
    })),
    edges: edges.map((e) => ({ id: e.id, source: e.source, sourceHandle: e.sourceHandle ?? 'next', target: e.target })),
  };
}

/** Edges whose exit no longer exists (a button removed, a wait switched to a duration) are dropped. */
export function pruneEdges(nodes: StepNode[], edges: Edge[]): Edge[] {
  const exits = new Map(nodes.map((n) => [n.id, new Set(exitsOf(n.data.type, n.data.data))]));
  const kept = edges.filter((e) => exits.get(e.source)?.has(e.sourceHandle ?? 'next') && exits.has(e.target));
  return kept.length === edges.length ? edges : kept;
}

/** Connects `source`'s exit to `target`, replacing what that exit led to (an exit leads to one node). */
export function connectExit(edges: Edge[], source: string, sourceHandle: string, target: string | null): Edge[] {
  const rest = edges.filter((e) => !(e.source === source && (e.sourceHandle ?? 'next') === sourceHandle));
  if (!target) return rest;
  return [...rest, { id: edgeId(source, sourceHandle, target), source, sourceHandle, target, targetHandle: TARGET_HANDLE }];
}
