import { AppError } from '../errors';
import type { FlowGraph } from '../flow/schema';

/**
 * The secrets a flow's trigger nodes hold (the outbound trigger's legacy token; an API trigger's API key, Basic
 * password, Bearer token or HMAC secret) are write-only: a flow read through the API shows HIDDEN_SECRET in their
 * place, and a graph saved back with HIDDEN_SECRET keeps the secret already stored for that node. Anyone who may
 * read a flow (any user of the account, an API token) would otherwise read the credentials that open its triggers.
 */

/** Long enough to pass each secret field's own length rule, so a graph read and saved back unchanged validates. */
export const HIDDEN_SECRET = '•'.repeat(16);

const authSecretKey: Record<string, string> = { api_key: 'key', basic: 'password', bearer: 'token', hmac: 'secret' };

interface SecretField {
  /** Names the field in an error, e.g. "hmac secret"; the same label on two nodes means the same kind of secret. */
  label: string;
  holder: Record<string, unknown>;
  key: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function secretFields(node: unknown): SecretField[] {
  if (!isRecord(node) || !isRecord(node.data)) return [];
  const data = node.data;
  if (node.type === 'trigger_outbound') return 'legacyToken' in data ? [{ label: 'legacy token', holder: data, key: 'legacyToken' }] : [];
  if (node.type !== 'trigger_api' && node.type !== 'trigger_api_lead') return [];
  const auth = data.auth;
  if (!isRecord(auth) || typeof auth.mode !== 'string') return [];
  const key = authSecretKey[auth.mode];
  return key && key in auth ? [{ label: `${auth.mode} ${key}`, holder: auth, key }] : [];
}

const nodesOf = (graph: unknown): unknown[] => (isRecord(graph) && Array.isArray(graph.nodes) ? graph.nodes : []);

/** A copy of the graph with its secrets replaced by HIDDEN_SECRET. */
export function hideSecrets<G>(graph: G): G {
  const copy = structuredClone(graph);
  for (const node of nodesOf(copy)) {
    for (const field of secretFields(node)) {
      if (typeof field.holder[field.key] === 'string') field.holder[field.key] = HIDDEN_SECRET;
    }
  }
  return copy;
}

/**
 * The graph to store when `incoming` replaces `stored`: each HIDDEN_SECRET becomes the secret the same node (same
 * id and type, and for an API trigger the same auth mode) holds in `stored`. One with nothing to keep (a new node,
 * another auth mode, a new flow, an imported export) is a 400: the secret has to be entered again.
 */
export function keepStoredSecrets(incoming: FlowGraph, stored: unknown): FlowGraph {
  const result = structuredClone(incoming);
  const storedNodes = nodesOf(stored).filter(isRecord);
  for (const node of result.nodes) {
    for (const field of secretFields(node)) {
      if (field.holder[field.key] !== HIDDEN_SECRET) continue;
      const previous = storedNodes.find((s) => s.id === node.id && s.type === node.type);
      const kept = previous && secretFields(previous).find((f) => f.label === field.label)?.holder;
      const value = kept?.[field.key];
      if (typeof value !== 'string' || value === HIDDEN_SECRET) {
        throw new AppError('invalid', `Node "${node.id}": its ${field.label} is not shown when a flow is read (nor in an export); enter it again`);
      }
      field.holder[field.key] = value;
    }
  }
  return result;
}
