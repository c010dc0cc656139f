import { ZodError } from 'zod';
import { flowNode, handlesOf } from './catalogue';
import { fromDrawflow } from './drawflow';
import { flowGraph, type FlowGraph } from './schema';

/**
 * Upgrades flows stored in older node shapes to the current schema. Every rule is shape-only: the upgraded
 * node behaves exactly as the old one did, so a published version may be rewritten by it (see
 * core/flows/fix-shay.ts). A rule that would change behaviour does not belong here.
 *
 * The rules, one line each:
 * - `message` → `send_text`, `data.message` → `data.text`.
 * - `buttons` whose `data.options` is a list of strings → `data.buttons: [{id: "option_N", title}]` (and `data.message` → `data.text`).
 * - `delay` → `wait` with `{mode: "duration", seconds}`, from `data.delay` + `data.unit` or `data.seconds|minutes|hours|days`.
 * - `api_lead_trigger` → `trigger_api_lead`.
 * - `outbound_trigger` → `trigger_outbound`.
 * - an edge leaving through Drawflow's `output_N` → the node's N-th named exit (see `handlesOf`).
 * - a graph stored as a Drawflow document → our graph (after the node rules above, applied to its nodes).
 */

type Data = Record<string, unknown>;
interface RawNode {
  id?: unknown;
  type?: unknown;
  data?: unknown;
  [key: string]: unknown;
}

interface NodeRule {
  from: string;
  /** Returns the new type and data, and what changed (human-readable), or null when the rule does not apply. */
  apply(data: Data): { type: string; data: Data; detail?: string } | null;
}

const isRecord = (value: unknown): value is Data => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `data[from]` moved to `data[to]` (dropped when `to` is already set), and the detail for the report. */
function renameField(data: Data, from: string, to: string): { data: Data; detail?: string } {
  if (!(from in data)) return { data };
  const { [from]: value, ...rest } = data;
  if (to in rest) return { data: rest, detail: `dropped data.${from} (data.${to} is set)` };
  return { data: { ...rest, [to]: value }, detail: `data.${from} → data.${to}` };
}

const secondsPerUnit: Record<string, number> = { second: 1, seconds: 1, minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

const nodeRules: NodeRule[] = [
  {
    from: 'message',
    apply(data) {
      const renamed = renameField(data, 'message', 'text');
      return { type: 'send_text', data: renamed.data, detail: renamed.detail };
    },
  },
  {
    from: 'buttons',
    apply(data) {
      const options = data.options;
      if (!Array.isArray(options) || !options.every((o) => typeof o === 'string')) return null;
      const { options: _old, ...rest } = data;
      const renamed = renameField(rest, 'message', 'text');
      const next: Data = { ...renamed.data, buttons: options.map((title, i) => ({ id: `option_${i + 1}`, title })) };
      const details = [`data.options → data.buttons (ids option_1…option_${options.length})`, ...(renamed.detail ? [renamed.detail] : [])];
      return { type: 'buttons', data: next, detail: details.join(', ') };
    },
  },
  {
    from: 'delay',
    apply(data) {
      let seconds: number | undefined;
      if (typeof data.delay === 'number') {
        const unit = typeof data.unit === 'string' ? data.unit.toLowerCase() : 'seconds';
        if (secondsPerUnit[unit] !== undefined) seconds = data.delay * secondsPerUnit[unit];
      } else {
        const parts = ['seconds', 'minutes', 'hours', 'days'].filter((k) => typeof data[k] === 'number');
        if (parts.length) seconds = parts.reduce((sum, k) => sum + (data[k] as number) * secondsPerUnit[k], 0);
      }
      if (seconds === undefined) return { type: 'wait', data, detail: 'no duration found in data' };
      return { type: 'wait', data: { mode: 'duration', seconds: Math.round(seconds) }, detail: `waits ${Math.round(seconds)} s` };
    },
  },
  { from: 'api_lead_trigger', apply: (data) => ({ type: 'trigger_api_lead', data }) },
  { from: 'outbound_trigger', apply: (data) => ({ type: 'trigger_outbound', data }) },
];

/** One node's type and data after the rules, with the change described (`change` is absent when no rule applied). */
function upgradeNodeShape(node: { type: unknown; data: unknown }): { type: unknown; data: unknown; change?: string } {
  const rule = nodeRules.find((r) => r.from === node.type);
  if (!rule) return node;
  const data: Data = isRecord(node.data) ? structuredClone(node.data) : {};
  const result = rule.apply(data);
  if (!result) return node;
  const renamed = result.type !== node.type ? `${String(node.type)} → ${result.type}` : String(node.type);
  return { type: result.type, data: result.data, change: result.detail ? `${renamed} (${result.detail})` : renamed };
}

const label = (id: unknown, index: number) => (typeof id === 'string' || typeof id === 'number' ? `node "${id}"` : `node #${index}`);

function upgradeOurGraph(stored: Data, changes: string[]): Data {
  const nodes = Array.isArray(stored.nodes) ? (stored.nodes as unknown[]) : [];
  const upgradedNodes = nodes.map((raw, index) => {
    if (!isRecord(raw)) return raw;
    const node = raw as RawNode;
    const up = upgradeNodeShape({ type: node.type, data: node.data });
    if (!up.change) return raw;
    changes.push(`${label(node.id, index)}: ${up.change}`);
    return { ...node, type: up.type, data: up.data };
  });
  const exitsById = new Map<string, string[]>();
  for (const raw of upgradedNodes) {
    const parsed = flowNode.safeParse(raw);
    if (parsed.success) exitsById.set(parsed.data.id, handlesOf(parsed.data));
  }
  const upgradedEdges = Array.isArray(stored.edges)
    ? stored.edges.map((raw: unknown) => {
        if (!isRecord(raw) || typeof raw.sourceHandle !== 'string') return raw;
        const match = /^output_(\d+)$/.exec(raw.sourceHandle);
        const exit = match ? exitsById.get(String(raw.source))?.[Number(match[1]) - 1] : undefined;
        if (!exit) return raw;
        changes.push(`node "${String(raw.source)}": edge exit ${raw.sourceHandle} → ${exit}`);
        const { id: _derivedId, ...rest } = raw;
        // A derived edge id names the old exit; let the schema derive it again. A chosen id is kept.
        const keepId = typeof raw.id === 'string' && raw.id !== `${String(raw.source)}:${raw.sourceHandle}->${String(raw.target)}`;
        return { ...(keepId ? raw : rest), sourceHandle: exit };
      })
    : stored.edges;
  return { ...stored, nodes: upgradedNodes, edges: upgradedEdges };
}

function upgradeDrawflowDocument(stored: Data, changes: string[]): unknown {
  const doc = structuredClone(stored) as { drawflow?: { Home?: { data?: Record<string, RawNode & { name?: unknown }> } } };
  const nodes = doc.drawflow?.Home?.data;
  if (isRecord(nodes)) {
    Object.values(nodes).forEach((node, index) => {
      if (!isRecord(node)) return;
      const up = upgradeNodeShape({ type: node.name, data: node.data });
      if (!up.change) return;
      changes.push(`${label(node.id, index)}: ${up.change}`);
      node.name = up.type;
      node.data = up.data;
    });
  }
  changes.push('stored as a Drawflow document → converted to the flow graph');
  return doc;
}

export type UpgradeResult =
  | { ok: true; graph: FlowGraph; changes: string[] }
  | { ok: false; errors: string[]; changes: string[] };

/**
 * Applies the upgrade rules to a stored graph and validates the result against the current schema.
 * `changes` lists what the rules did (empty when the graph already had current shapes); defaults the schema
 * fills in are not counted as changes. The input is not modified.
 */
export function upgradeFlowGraph(stored: unknown): UpgradeResult {
  const changes: string[] = [];
  if (isRecord(stored) && isRecord(stored.drawflow)) {
    const doc = upgradeDrawflowDocument(stored, changes);
    try {
      return { ok: true, graph: fromDrawflow(doc), changes };
    } catch (err) {
      if (err instanceof ZodError) return { ok: false, errors: issueMessages(err), changes };
      throw err;
    }
  }
  const upgraded = isRecord(stored) ? upgradeOurGraph(stored, changes) : stored;
  const parsed = flowGraph.safeParse(upgraded);
  return parsed.success ? { ok: true, graph: parsed.data, changes } : { ok: false, errors: issueMessages(parsed.error), changes };
}

/** The schema's messages, which already name the node ("node \"7\": unknown node type ..."). */
export function issueMessages(error: ZodError): string[] {
  return error.issues.map((issue) => (issue.code === 'custom' || !issue.path.length ? issue.message : `${issue.path.join('.')}: ${issue.message}`));
}
