import type { SecretBox } from '../crypto/secret-box';
import { AppError } from '../errors';
import type { FlowGraph } from '../flow/schema';

/**
 * The secrets a flow's trigger nodes hold (the outbound trigger's legacy token; an API trigger's API key, Basic
 * password, Bearer token or HMAC secret) are write-only: a flow read through the API shows HIDDEN_SECRET in their
 * place, and a graph saved back with HIDDEN_SECRET keeps the secret already stored for that node. Anyone who may
 * read a flow (any user of the account, an API token) would otherwise read the credentials that open its triggers.
 *
 * They are stored sealed (core/crypto/secret-box.ts, as the lines' access tokens are): `sealed:v1:<key id>:<data>`
 * in the draft and in the versions published from it. A value without that prefix was stored before secrets were
 * sealed, and is read as it is until the flow is saved again.
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

const SEALED = 'sealed:';
/** Sealed for flow trigger secrets only: a value sealed for another purpose does not open here. */
const CONTEXT = 'flow-trigger-secret';

const seal = (box: SecretBox, plaintext: string): string => `${SEALED}${box.seal(plaintext, CONTEXT)}`;

/**
 * The graph to store when `incoming` replaces `stored`, its secrets sealed: each HIDDEN_SECRET becomes the secret
 * the same node (same id and type, and for an API trigger the same auth mode) holds in `stored`. One with nothing
 * to keep (a new node, another auth mode, a new flow, an imported export) is a 400: the secret has to be entered
 * again. Every other value of a secret field is what the caller typed, and is sealed.
 */
export function storableSecrets(incoming: FlowGraph, stored: unknown, box: SecretBox): FlowGraph {
  const result = structuredClone(incoming);
  const storedNodes = nodesOf(stored).filter(isRecord);
  for (const node of result.nodes) {
    for (const field of secretFields(node)) {
      const given = field.holder[field.key];
      if (typeof given !== 'string') continue;
      if (given !== HIDDEN_SECRET) {
        field.holder[field.key] = seal(box, given);
        continue;
      }
      const previous = storedNodes.find((s) => s.id === node.id && s.type === node.type);
      const kept = previous && secretFields(previous).find((f) => f.label === field.label)?.holder;
      const value = kept?.[field.key];
      if (typeof value !== 'string' || value === HIDDEN_SECRET) {
        throw new AppError('invalid', `Node "${node.id}": its ${field.label} is not shown when a flow is read (nor in an export); enter it again`);
      }
      field.holder[field.key] = value.startsWith(SEALED) ? value : seal(box, value);
    }
  }
  return result;
}

/**
 * A stored secret as it was typed. One that cannot be opened (ENCRYPTION_KEY lost or changed since it was sealed)
 * is a 503 that says so: the trigger refuses rather than guess.
 */
export function openSecret(stored: string, box: SecretBox): string {
  if (!stored.startsWith(SEALED)) return stored;
  try {
    return box.open(stored.slice(SEALED.length), CONTEXT);
  } catch (err) {
    throw new AppError('unavailable', `This flow's trigger secret cannot be read (${(err as Error).message}); enter it again in the flow, or restore the ENCRYPTION_KEY it was sealed with`);
  }
}

/** A trigger node's data with its secrets opened, for checking a caller's credentials against them. */
export function openedSecrets<D>(node: { type: string; data: D }, box: SecretBox): D {
  const copy = structuredClone(node);
  for (const field of secretFields(copy)) {
    const value = field.holder[field.key];
    if (typeof value === 'string') field.holder[field.key] = openSecret(value, box);
  }
  return copy.data;
}
