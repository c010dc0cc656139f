import { instanceOf, nodeTypesOffered, type Schema } from './json-schema';
import type { InvalidKind } from './state';

/**
 * The simulator's "model" for structured output: a small, deterministic flow derived from the words of the
 * request, shaped by the JSON schema the caller sent. The same request always gets the same flow, so tests
 * can assert on it; the document (PDF text) and images of the request leave visible traces in it.
 */

export interface ChatRequestText {
  /** The first user message's first text: the request itself. */
  prompt: string;
  /** Further text of that message (a document's extracted text). */
  document: string;
  /** Media types of the images sent (data URLs), or "url" for linked ones. */
  images: string[];
}

const stopWords = new Set(
  (
    'a an and are as at be build by can create flow flows for from generate give i in into is it make me my of on or our please ' +
    'that the this to us we whatsapp with bot chatbot document pdf image based using use new simple'
  ).split(' '),
);
/** Words that describe the kind of flow rather than the business: a poor keyword for the trigger. */
const generic = new Set('customer customers support service services company business team help sales'.split(' '));

export function keywordsOf(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const seen = new Set<string>();
  // Words as a person writes them: a 300-character "word" of digits is noise, not a keyword.
  return words.filter((w) => w.length > 2 && w.length <= 30 && !stopWords.has(w) && !seen.has(w) && (seen.add(w), true));
}

const titleCase = (words: string[]): string => words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');

interface Proposal {
  name: string;
  description: string;
  nodes: Array<{ id: string; type: string; data: Record<string, unknown> }>;
  edges: Array<{ source: string; sourceHandle: string; target: string }>;
}

export function proposeFlow(request: ChatRequestText, offered: string[]): Proposal {
  const keywords = keywordsOf(request.prompt);
  const business = keywords.filter((k) => !generic.has(k));
  const title = titleCase((business.length ? business : keywords).slice(0, 3)) || 'Welcome';
  const trigger = business[0] ?? keywords[0] ?? 'hello';
  const documentLines = request.document
    .split('\n')
    .map((l) => l.trim())
    // A heading such as `Document "menu.pdf":` introduces the text; it is not part of it.
    .filter((l) => l && !l.endsWith(':'));
  const info = documentLines.length ? documentLines.join('\n').slice(0, 1000) : `Here is what ${title} offers: ${keywords.slice(0, 6).join(', ') || 'our services'}.`;
  const has = (type: string) => offered.length === 0 || offered.includes(type);

  const nodes: Proposal['nodes'] = [
    { id: 'start', type: has('trigger_inbound') ? 'trigger_inbound' : (offered.find((t) => t.startsWith('trigger')) ?? 'trigger_inbound'), data: { match: 'contains', keywords: [trigger] } },
    { id: 'welcome', type: 'send_text', data: { text: `Welcome to ${title}!` } },
    ...(request.images.length ? [{ id: 'picture', type: 'send_text', data: { text: `We looked at your picture (${request.images.join(', ')}).` } }] : []),
    {
      id: 'menu',
      type: 'buttons',
      data: {
        text: 'How can we help you?',
        buttons: [
          { id: 'info', title: 'Information' },
          { id: 'details', title: 'Leave my details' },
          { id: 'agent', title: 'Talk to a person' },
        ],
      },
    },
    { id: 'info', type: 'send_text', data: { text: info } },
    { id: 'ask_name', type: 'question', data: { text: 'What is your name?', variable: 'name', validation: 'text' } },
    { id: 'thanks', type: 'send_text', data: { text: 'Thank you {{name}}, we will be in touch soon.' } },
    { id: 'agent', type: 'handoff', data: { message: 'Connecting you with a person from our team.' } },
    { id: 'done', type: 'end', data: {} },
  ];
  const edges: Proposal['edges'] = [
    { source: 'start', sourceHandle: 'next', target: 'welcome' },
    ...(request.images.length
      ? [
          { source: 'welcome', sourceHandle: 'next', target: 'picture' },
          { source: 'picture', sourceHandle: 'next', target: 'menu' },
        ]
      : [{ source: 'welcome', sourceHandle: 'next', target: 'menu' }]),
    { source: 'menu', sourceHandle: 'button:info', target: 'info' },
    { source: 'menu', sourceHandle: 'button:details', target: 'ask_name' },
    { source: 'menu', sourceHandle: 'button:agent', target: 'agent' },
    { source: 'info', sourceHandle: 'next', target: 'done' },
    { source: 'ask_name', sourceHandle: 'next', target: 'thanks' },
    { source: 'ask_name', sourceHandle: 'invalid', target: 'agent' },
    { source: 'thanks', sourceHandle: 'next', target: 'done' },
  ];
  return { name: `${title} Flow`, description: `Generated from: ${request.prompt.slice(0, 200)}`, nodes, edges };
}

/** A flow that fits the JSON schema but breaks FlowBot's rules: a button title over 20 characters, an edge to nowhere. */
function breakFlow(flow: Proposal): Proposal {
  const nodes = flow.nodes.map((n) =>
    n.id === 'menu' ? { ...n, data: { ...n.data, buttons: [{ id: 'agent', title: 'Talk to a real person right now, please' }] } } : n,
  );
  const edges = flow.edges.map((e) => (e.source === 'thanks' ? { ...e, target: 'nowhere' } : e));
  return { ...flow, nodes, edges };
}

/** The content of the assistant message answering a structured-output request. */
export function structuredAnswer(schema: Schema, request: ChatRequestText, invalid: InvalidKind | undefined): string {
  if (invalid === 'not_json') return 'Sorry, I could not build that flow.';
  const offered = nodeTypesOffered(schema);
  if (offered.length === 0) return JSON.stringify(instanceOf(schema, undefined));
  const flow = proposeFlow(request, offered);
  return JSON.stringify(instanceOf(schema, invalid === 'invalid_flow' ? breakFlow(flow) : flow));
}

/** The content answering a plain chat request: an echo, deterministic. */
export function textAnswer(request: ChatRequestText): string {
  return `Simulated answer to: ${request.prompt.slice(0, 200)}`;
}
