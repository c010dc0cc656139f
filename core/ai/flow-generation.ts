import { z } from 'zod';
import { conditionOperators } from '../flow/nodes/logic';
import { layoutGraph } from '../flow/layout';
import { isTrigger, flowGraph, type FlowGraph } from '../flow/schema';
import { issueMessages } from '../flow/upgrade';

/**
 * Flow generation by a language model: the shape the model is asked for (structured output), the prompt,
 * and the way back to our flow graph, which is validated by the same `flowGraph` schema as every other flow.
 *
 * The model is not given `flowGraph` itself: structured output in strict mode wants every property required
 * (optional ones as null), no defaults and no length rules, and our schema has all three. So the generation
 * schema below is the strict-friendly cousin of the catalogue — one variant per node type a model can fill in
 * sensibly (no http_request, goto_flow or templates: those name things only the tenant knows) — and
 * `toFlowGraph` turns its answer into a graph input. The JSON schema sent to the model is produced from it
 * with z.toJSONSchema. Length limits and graph rules (edges to existing nodes, exits that exist) are checked
 * by `flowGraph` afterwards; its messages name the node, and are what the model gets to repair.
 */

const id = z.string().describe('Unique node id: letters, digits, _ and - only, e.g. "ask_name"');
const text = (what: string) => z.string().describe(what);
const variable = z.string().describe('Flow variable name: starts with a letter or _, then letters, digits, _ or .');

function variant<T extends string, D extends z.ZodRawShape>(type: T, description: string, data: D) {
  return z.object({ id, type: z.literal(type), data: z.object(data) }).describe(description);
}

export const generatedNode = z.discriminatedUnion('type', [
  variant('trigger_inbound', 'Starts the flow when a customer writes to us. Exactly one trigger per flow; it has one exit: next', {
    match: z.enum(['any', 'exact', 'contains']).describe('any: every message; exact / contains: messages equal to / containing a keyword'),
    keywords: z.array(z.string()).describe('Keywords for exact / contains (empty for any)'),
  }),
  variant('trigger_outbound', 'Starts the flow when our system contacts the customer first (after a template). Exit: next', {}),
  variant('trigger_api_lead', 'Starts the flow when a lead form or CRM sends a lead. Exit: next', {}),
  variant('send_text', 'Sends a text message. Exit: next', { text: text('The message, at most 4096 characters; {{variable}} inserts a variable') }),
  variant('buttons', 'A message with 1 to 3 reply buttons. Exits: "button:<button id>", one per button', {
    text: text('The message above the buttons, at most 1024 characters'),
    buttons: z.array(z.object({ id, title: text('Button label, at most 20 characters') })).describe('1 to 3 buttons'),
  }),
  variant('list', 'A message with a list of 1 to 10 options. Exits: "row:<row id>", one per row', {
    text: text('The message above the list, at most 1024 characters'),
    buttonLabel: text('Label of the button that opens the list, at most 20 characters'),
    rows: z
      .array(z.object({ id, title: text('Row title, at most 24 characters'), description: z.string().nullable().describe('At most 72 characters, or null') }))
      .describe('1 to 10 rows'),
  }),
  variant('question', 'Asks a question and stores the answer in a variable. Exits: next (valid answer), invalid (after retries)', {
    text: text('The question'),
    variable,
    validation: z.enum(['text', 'number', 'email', 'phone', 'date']),
  }),
  variant('condition', 'Branches on variables. Exits: true, false', {
    combinator: z.enum(['and', 'or']),
    rules: z.array(z.object({ variable, operator: z.enum(conditionOperators), value: z.string() })).describe('At least one rule'),
  }),
  variant('set_variable', 'Sets a variable. Exit: next', { variable, value: z.string() }),
  variant('wait', 'Pauses the flow. Exit: next', { seconds: z.number().int().describe('How long, 1 second to 90 days') }),
  variant('handoff', 'Hands the conversation to a human agent; the flow waits. Exit: next, taken when the agent hands it back (may stay unconnected)', {
    message: z.string().nullable().describe('Told to the customer, or null'),
  }),
  variant('end', 'Ends the flow. No exit', {}),
]);

export const generatedFlow = z.object({
  name: z.string().describe('A short name for the flow, at most 200 characters'),
  description: z.string().describe('One sentence on what the flow does'),
  nodes: z.array(generatedNode),
  edges: z
    .array(
      z.object({
        source: z.string().describe('Id of the node the edge leaves'),
        sourceHandle: z.string().describe('The exit of the source node it leaves from, e.g. next, button:yes, row:pizza, true, invalid'),
        target: z.string().describe('Id of the node it leads to'),
      }),
    )
    .describe('Each exit of a node leads to at most one node'),
});

export type GeneratedFlow = z.infer<typeof generatedFlow>;

type JsonSchema = Record<string, unknown>;

/** Keywords OpenAI's strict mode refuses; zod may emit them. `oneOf` becomes `anyOf`, which it accepts. */
const notInStrict = new Set(['$schema', 'minLength', 'maxLength', 'default']);

export function strictJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (notInStrict.has(key)) continue;
    out[key === 'oneOf' ? 'anyOf' : key] = strictJsonSchema(value);
  }
  if (out.type === 'object' && out.properties) {
    out.additionalProperties = false;
    out.required = Object.keys(out.properties as object);
  }
  return out;
}

/** The `response_format` of a structured-output request for a flow (OpenAI chat completions). */
export function flowResponseFormat() {
  return {
    type: 'json_schema' as const,
    json_schema: { name: 'flowbot_flow', strict: true, schema: strictJsonSchema(z.toJSONSchema(generatedFlow, { io: 'output' })) as JsonSchema },
  };
}

export const flowSystemPrompt = [
  'You design WhatsApp conversation flows for FlowBot. Answer with one flow as JSON in the given schema.',
  'A flow is a graph: nodes (each with a unique id, a type and its data) and edges from a node exit to the next node.',
  'Rules:',
  '- Exactly one trigger node (trigger_inbound unless the request says the business writes first or leads arrive from a form), and every other node is reachable from it.',
  "- Edges leave from a node's exits, named in each node type's description: next; button:<button id>; row:<row id>; true / false; invalid. Each exit leads to at most one node; end has no exit, and an exit may stay unconnected (the flow ends there).",
  '- WhatsApp limits: at most 3 buttons with titles of at most 20 characters; lists of at most 10 rows with titles of at most 24 characters; texts of at most 1024 characters above buttons and lists.',
  '- Store answers with question nodes and use them later as {{variable}}.',
  '- Write the messages in the language of the request, for the business it describes; keep flows focused: usually 5 to 15 nodes.',
].join('\n');

/** How a request's material is given to the model: the prompt, a document's text, images as data URLs. */
export interface GenerationMaterial {
  prompt: string;
  document?: { name: string; text: string };
  images?: Array<{ contentType: string; base64: string }>;
}

/** Chat messages of the first request; a repair appends the previous answer and its errors (`repairMessages`). */
export function flowRequestMessages(material: GenerationMaterial) {
  const parts: Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }> = [{ type: 'text', text: material.prompt }];
  if (material.document) parts.push({ type: 'text', text: `Document "${material.document.name}":\n${material.document.text}` });
  for (const image of material.images ?? []) parts.push({ type: 'image_url', image_url: { url: `data:${image.contentType};base64,${image.base64}` } });
  return [
    { role: 'system' as const, content: flowSystemPrompt },
    { role: 'user' as const, content: parts },
  ];
}

export function repairMessages(previousAnswer: string, errors: string[]) {
  return [
    { role: 'assistant' as const, content: previousAnswer },
    {
      role: 'user' as const,
      content: `That flow is not valid:\n${errors.map((e) => `- ${e}`).join('\n')}\nAnswer with the whole corrected flow.`,
    },
  ];
}

export type CheckedFlow = { ok: true; name: string; description: string; graph: FlowGraph } | { ok: false; errors: string[] };

/** At most this many errors go back to the model (and into an error message). */
const maxErrors = 20;

/**
 * The model's answer, checked: JSON, the generation schema, then our flow schema and the generation's own
 * rules (one trigger, every node reachable). The graph is laid out for the canvas.
 */
export function checkGeneratedFlow(answer: string): CheckedFlow {
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    return { ok: false, errors: ['the answer is not valid JSON: answer with the flow as one JSON document in the given schema'] };
  }
  const shaped = generatedFlow.safeParse(json);
  if (!shaped.success) return { ok: false, errors: issueMessages(shaped.error).slice(0, maxErrors) };
  const parsed = flowGraph.safeParse(toFlowGraph(shaped.data));
  if (!parsed.success) return { ok: false, errors: issueMessages(parsed.error).slice(0, maxErrors) };
  const errors = generationRules(parsed.data);
  if (errors.length) return { ok: false, errors: errors.slice(0, maxErrors) };
  const name = shaped.data.name.trim().slice(0, 200) || 'Generated flow';
  return { ok: true, name, description: shaped.data.description.trim().slice(0, 2000), graph: layoutGraph(parsed.data) };
}

/** The generation schema's answer as a `flowGraph` input: nulls dropped, waits given their mode. */
export function toFlowGraph(flow: GeneratedFlow): unknown {
  return {
    nodes: flow.nodes.map((node) => {
      const data = withoutNulls(node.data) as Record<string, unknown>;
      if (node.type === 'wait') return { id: node.id, type: 'wait', data: { mode: 'duration', ...data } };
      return { id: node.id, type: node.type, data };
    }),
    edges: flow.edges,
  };
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null ? [] : [[k, withoutNulls(v)]])));
}

/** What makes a valid graph a usable generated flow: one trigger it starts from, and no orphaned node. */
function generationRules(graph: FlowGraph): string[] {
  const triggers = graph.nodes.filter(isTrigger);
  if (triggers.length !== 1) return [`the flow needs exactly one trigger node, it has ${triggers.length}`];
  const reached = new Set([triggers[0].id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of graph.edges) {
      if (reached.has(e.source) && !reached.has(e.target)) {
        reached.add(e.target);
        grew = true;
      }
    }
  }
  return graph.nodes.filter((n) => !reached.has(n.id)).map((n) => `node "${n.id}": not reachable from the trigger "${triggers[0].id}": connect it or remove it`);
}
