/**
 * The editor's view of the node catalogue. The schemas, exits and graph rules are the server's own
 * (core/flow: the same zod schemas validate a save), so a problem the editor shows inline is the problem the
 * API would answer with; this file adds what only an editor needs: labels, starting data, form fields.
 */
import { handlesOf, nodeTypes, triggerTypes, type FlowNode, type NodeType } from '../../../../core/flow/catalogue';
import { flowGraph } from '../../../../core/flow/schema';
import type { Graph } from '../../api';

export { nodeTypes };
export type { NodeType };

export type FieldSpec = {
  key: string;
  label: string;
  /** An empty value removes the key (optional fields), instead of sending "". */
  optional?: boolean;
  placeholder?: string;
  showIf?: (data: Record<string, unknown>) => boolean;
} & (
  | { kind: 'text' | 'textarea' | 'number' | 'checkbox' }
  | { kind: 'select'; options: readonly string[]; /** Whole data to switch to when this value is chosen (discriminated shapes). */ replaces?: Record<string, Record<string, unknown>> }
  | { kind: 'lines' }
  | { kind: 'json' }
  | { kind: 'items'; item: FieldSpec[]; newItem: (index: number) => Record<string, unknown>; max?: number }
);

/** Node type labels are in the dictionaries (i18n.ts, `node.<type>`). */
export interface NodeSpec {
  group: 'trigger' | 'message' | 'logic';
  defaults: () => Record<string, unknown>;
  fields: FieldSpec[];
  /** One line shown on the canvas. */
  summary: (data: Record<string, unknown>) => string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const authModes = ['jwt', 'none', 'api_key', 'basic', 'bearer', 'hmac'] as const;
/** The server never sends a saved secret back (core/flows/secrets.ts): it shows as bullets, and is kept unless replaced. */
const authLabel = `Authentication (JSON; mode: ${authModes.join(', ')}; a saved key, password, token or secret shows as •••• and is kept unless you replace it)`;

export const nodeSpecs: Record<NodeType, NodeSpec> = {
  trigger_inbound: {
    group: 'trigger',
    defaults: () => ({ match: 'contains', keywords: [] }),
    fields: [
      { key: 'match', label: 'Match', kind: 'select', options: ['any', 'exact', 'contains'] },
      { key: 'keywords', label: 'Keywords, one per line', kind: 'lines', showIf: (d) => d.match !== 'any' },
    ],
    summary: (d) => (d.match === 'any' ? 'any message' : `${str(d.match)}: ${((d.keywords as string[]) ?? []).join(', ')}`),
  },
  trigger_outbound: { group: 'trigger', defaults: () => ({}), fields: [], summary: () => 'POST /api/webhook/outbound' },
  trigger_api_lead: {
    group: 'trigger',
    defaults: () => ({ auth: { mode: 'jwt' }, phoneField: 'phone', fieldMapping: {} }),
    fields: [
      { key: 'phoneField', label: 'Phone field', kind: 'text' },
      { key: 'auth', label: authLabel, kind: 'json' },
      { key: 'fieldMapping', label: 'Field → variable (JSON)', kind: 'json' },
    ],
    summary: () => 'POST /api/webhook/flow/{id}/lead',
  },
  trigger_api: {
    group: 'trigger',
    defaults: () => ({ auth: { mode: 'jwt' }, phoneField: 'phone', fieldMapping: {} }),
    fields: [
      { key: 'phoneField', label: 'Phone field', kind: 'text' },
      { key: 'auth', label: authLabel, kind: 'json' },
      { key: 'fieldMapping', label: 'Field → variable (JSON)', kind: 'json' },
    ],
    summary: () => 'POST /api/webhook/flow/{id}',
  },
  send_text: {
    group: 'message',
    defaults: () => ({ text: '' }),
    fields: [
      { key: 'text', label: 'Text ({{variable}} allowed)', kind: 'textarea' },
      { key: 'previewUrl', label: 'Preview links', kind: 'checkbox' },
    ],
    summary: (d) => str(d.text),
  },
  send_media: {
    group: 'message',
    defaults: () => ({ mediaType: 'image', url: '' }),
    fields: [
      { key: 'mediaType', label: 'Media type', kind: 'select', options: ['image', 'video', 'document', 'audio'] },
      { key: 'url', label: 'URL', kind: 'text', placeholder: 'https://…' },
      { key: 'caption', label: 'Caption', kind: 'text', optional: true },
      { key: 'filename', label: 'File name', kind: 'text', optional: true, showIf: (d) => d.mediaType === 'document' },
    ],
    summary: (d) => `${str(d.mediaType)} ${str(d.url)}`,
  },
  send_template: {
    group: 'message',
    defaults: () => ({ templateName: '', language: 'en', params: [] }),
    fields: [
      { key: 'templateName', label: 'Template name', kind: 'text', optional: true },
      { key: 'templateGroupId', label: 'Template group id', kind: 'text', optional: true },
      { key: 'language', label: 'Language', kind: 'text' },
      { key: 'params', label: 'Parameters, one per line', kind: 'lines' },
    ],
    summary: (d) => str(d.templateName) || str(d.templateGroupId),
  },
  buttons: {
    group: 'message',
    defaults: () => ({ text: '', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] }),
    fields: [
      { key: 'text', label: 'Text', kind: 'textarea' },
      {
        key: 'buttons',
        label: 'Buttons (one exit each)',
        kind: 'items',
        max: 3,
        newItem: (i) => ({ id: `b${i + 1}`, title: '' }),
        item: [
          { key: 'id', label: 'Id', kind: 'text' },
          { key: 'title', label: 'Title', kind: 'text' },
        ],
      },
    ],
    summary: (d) => str(d.text),
  },
  list: {
    group: 'message',
    defaults: () => ({ text: '', buttonLabel: 'Choose', rows: [{ id: 'r1', title: 'Option 1' }] }),
    fields: [
      { key: 'text', label: 'Text', kind: 'textarea' },
      { key: 'buttonLabel', label: 'Button label', kind: 'text' },
      {
        key: 'rows',
        label: 'Rows (one exit each)',
        kind: 'items',
        max: 10,
        newItem: (i) => ({ id: `r${i + 1}`, title: '' }),
        item: [
          { key: 'id', label: 'Id', kind: 'text' },
          { key: 'title', label: 'Title', kind: 'text' },
          { key: 'description', label: 'Description', kind: 'text', optional: true },
        ],
      },
    ],
    summary: (d) => str(d.text),
  },
  question: {
    group: 'logic',
    defaults: () => ({ text: '', variable: 'answer', validation: 'text' }),
    fields: [
      { key: 'text', label: 'Question', kind: 'textarea' },
      { key: 'variable', label: 'Save the answer in variable', kind: 'text' },
      { key: 'validation', label: 'Validation', kind: 'select', options: ['text', 'number', 'email', 'phone', 'date', 'regex'] },
      { key: 'pattern', label: 'Pattern (regex)', kind: 'text', optional: true, showIf: (d) => d.validation === 'regex' },
      { key: 'invalidText', label: 'When the answer is not valid', kind: 'text', optional: true },
      { key: 'maxRetries', label: 'Retries', kind: 'number', optional: true },
    ],
    summary: (d) => str(d.text),
  },
  condition: {
    group: 'logic',
    defaults: () => ({ combinator: 'and', rules: [{ variable: 'answer', operator: 'equals', value: '' }] }),
    fields: [
      { key: 'combinator', label: 'Combine rules with', kind: 'select', options: ['and', 'or'] },
      {
        key: 'rules',
        label: 'Rules',
        kind: 'items',
        newItem: () => ({ variable: '', operator: 'equals', value: '' }),
        item: [
          { key: 'variable', label: 'Variable', kind: 'text' },
          { key: 'operator', label: 'Operator', kind: 'select', options: ['equals', 'not_equals', 'contains', 'greater_than', 'less_than', 'is_set', 'is_not_set', 'matches'] },
          { key: 'value', label: 'Value', kind: 'text' },
        ],
      },
    ],
    summary: (d) =>
      ((d.rules as Array<Record<string, unknown>>) ?? []).map((r) => `${str(r.variable)} ${str(r.operator)} ${str(r.value)}`).join(` ${str(d.combinator)} `),
  },
  set_variable: {
    group: 'logic',
    defaults: () => ({ variable: '', value: '' }),
    fields: [
      { key: 'variable', label: 'Variable', kind: 'text' },
      { key: 'value', label: 'Value ({{variable}} allowed)', kind: 'text' },
    ],
    summary: (d) => `${str(d.variable)} = ${str(d.value)}`,
  },
  wait: {
    group: 'logic',
    defaults: () => ({ mode: 'duration', seconds: 60 }),
    fields: [
      {
        key: 'mode',
        label: 'Wait for',
        kind: 'select',
        options: ['duration', 'reply'],
        replaces: { duration: { mode: 'duration', seconds: 60 }, reply: { mode: 'reply', timeoutSeconds: 86400 } },
      },
      { key: 'seconds', label: 'Seconds', kind: 'number', showIf: (d) => d.mode === 'duration' },
      { key: 'timeoutSeconds', label: 'Give up after (seconds)', kind: 'number', showIf: (d) => d.mode === 'reply' },
      { key: 'variable', label: 'Save the reply in variable', kind: 'text', optional: true, showIf: (d) => d.mode === 'reply' },
    ],
    summary: (d) => (d.mode === 'reply' ? `a reply (≤ ${String(d.timeoutSeconds)} s)` : `${String(d.seconds)} s`),
  },
  http_request: {
    group: 'logic',
    defaults: () => ({ method: 'GET', url: '' }),
    fields: [
      { key: 'method', label: 'Method', kind: 'select', options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      { key: 'url', label: 'URL', kind: 'text', placeholder: 'https://…' },
      { key: 'headers', label: 'Headers (JSON)', kind: 'json' },
      { key: 'body', label: 'Body', kind: 'textarea', optional: true },
      { key: 'timeoutSeconds', label: 'Timeout (seconds)', kind: 'number', optional: true },
      { key: 'responseMapping', label: 'Variable → response path (JSON)', kind: 'json' },
    ],
    summary: (d) => `${str(d.method)} ${str(d.url)}`,
  },
  handoff: {
    group: 'logic',
    defaults: () => ({}),
    fields: [{ key: 'message', label: 'Message to the customer', kind: 'textarea', optional: true }],
    summary: (d) => str(d.message),
  },
  goto_flow: {
    group: 'logic',
    defaults: () => ({ flowId: '' }),
    fields: [{ key: 'flowId', label: 'Flow id', kind: 'text' }],
    summary: (d) => str(d.flowId),
  },
  end: { group: 'logic', defaults: () => ({}), fields: [], summary: () => '' },
  ai_reply: {
    group: 'logic',
    defaults: () => ({}),
    fields: [
      { key: 'prompt', label: 'Ask first (then answer the reply)', kind: 'textarea', optional: true },
      { key: 'question', label: 'Otherwise answer ({{variable}} allowed)', kind: 'text', optional: true, placeholder: '{{lastMessage}}' },
      { key: 'instructions', label: 'Instructions to the AI (tone, what not to discuss)', kind: 'textarea', optional: true },
      { key: 'maxSources', label: 'Knowledge passages given to the AI (1–10)', kind: 'number', optional: true },
      { key: 'minScore', label: 'Minimum relevance (0–1)', kind: 'number', optional: true },
      { key: 'handoffKeywords', label: 'Words that ask for a person, one per line', kind: 'lines', optional: true },
      { key: 'handoffMessage', label: 'Message before handing off', kind: 'textarea', optional: true },
    ],
    summary: (d) => str(d.prompt) || str(d.question) || '{{lastMessage}}',
  },
};

export const isTriggerType = (type: string): boolean => (triggerTypes as readonly string[]).includes(type);

/** The node's exits as the server names them (`next`, `true`, `button:yes`, …); none while its data is unusable. */
export function exitsOf(type: string, data: Record<string, unknown>): string[] {
  try {
    return handlesOf({ id: 'x', type, data, position: { x: 0, y: 0 } } as FlowNode).filter((h) => !h.endsWith(':undefined'));
  } catch {
    return [];
  }
}

export const exitLabel = (handle: string): string => handle.replace(/^(button|row):/, '');

export interface Issue {
  /** `data.text`, `data.buttons.0.title`, `id`, `exits`, or '' for the node as a whole. */
  field: string;
  message: string;
}
export interface GraphIssues {
  byNode: Map<string, Issue[]>;
  general: string[];
  count: number;
}

const nodePrefix = /^node "[^"]*": (?:[\w.]+: )?/;

/** The flow schema's verdict on the graph, per node and field. */
export function checkGraph(graph: Graph): GraphIssues {
  const result: GraphIssues = { byNode: new Map(), general: [], count: 0 };
  const parsed = flowGraph.safeParse(graph);
  if (parsed.success) return result;
  for (const issue of parsed.error.issues) {
    const [where, index, ...rest] = issue.path as Array<string | number>;
    let nodeId: string | undefined;
    let field = '';
    if (where === 'nodes' && typeof index === 'number') {
      nodeId = graph.nodes[index]?.id;
      field = rest.join('.');
    } else if (where === 'edges' && typeof index === 'number') {
      nodeId = graph.edges[index]?.source;
      field = 'exits';
    }
    add(result, nodeId, field, issue.message.replace(nodePrefix, ''));
  }
  return result;
}

function add(result: GraphIssues, nodeId: string | undefined, field: string, message: string): void {
  result.count++;
  if (nodeId === undefined) return void result.general.push(message);
  const list = result.byNode.get(nodeId) ?? [];
  list.push({ field, message });
  result.byNode.set(nodeId, list);
}

/**
 * An API error about the graph ("Invalid body: graph.nodes.1.data.text: node \"n2\": data.text: must not be
 * empty; …") split into per-node issues, so the editor can show each beside its field. Whatever names no
 * node stays a general message.
 */
export function issuesFromApiError(message: string): GraphIssues {
  const result: GraphIssues = { byNode: new Map(), general: [], count: 0 };
  const body = message.replace(/^Invalid body: /, '').replace(/^The draft does not match the flow schema: /, '');
  const parts = body.split('; ');
  let matched = 0;
  for (const part of parts) {
    const m = /(?:^|: )node "([^"]+)": (?:(data(?:\.[\w-]+)*|id): )?(.*)$/.exec(part);
    if (!m) continue;
    matched++;
    add(result, m[1], m[2] ?? '', m[3]);
  }
  if (!matched) add(result, undefined, '', message);
  return result;
}

let counter = 0;
/** A fresh node id in the schema's alphabet, readable in Temporal Web: `send_text_3`. */
export function newNodeId(type: string, taken: Set<string>): string {
  for (;;) {
    const id = `${type}_${++counter}`;
    if (!taken.has(id)) return id;
  }
}
