import { randomBytes } from 'node:crypto';
import type { LineRef } from './webhooks';

/**
 * Customer accounts for the benchmarks, made the way a customer and an administrator make them, through
 * the API: register, issue an API key, have it approved, exchange it for an API token, connect a WhatsApp
 * line, create a flow, publish it and activate it.
 */

export interface BenchTenant {
  name: string;
  tenantId: string;
  /** An API JWT (Bearer), as an integrator uses. */
  token: string;
  line: LineRef & { id: string };
  flowId: string;
}

type Graph = { nodes: object[]; edges: object[] };

/** Two questions asked in turn, forever: every customer reply is answered by exactly one bot message. */
const questionLoop = (trigger: object): Graph => ({
  nodes: [
    trigger,
    { id: 'ask1', type: 'question', data: { text: 'First question, {{customerName}}?', variable: 'a1' } },
    { id: 'ask2', type: 'question', data: { text: 'Second question?', variable: 'a2' } },
  ],
  edges: [
    { source: 'start', target: 'ask1' },
    { source: 'ask1', target: 'ask2' },
    { source: 'ask2', target: 'ask1' },
  ],
});

/** Started by POST /api/webhook/outbound (with a template first, as the 24-hour window is closed). */
export const outboundFlow = questionLoop({ id: 'start', type: 'trigger_outbound', data: {} });
/** Started by any customer message. */
export const inboundFlow = questionLoop({ id: 'start', type: 'trigger_inbound', data: { match: 'any' } });

async function call(apiUrl: string, method: string, route: string, auth: { cookie?: string; token?: string }, body?: unknown) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const res = await fetch(`${apiUrl}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`bench setup: ${method} ${route} answered ${res.status}: ${text}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { json: (text ? JSON.parse(text) : {}) as Record<string, any>, cookie };
}

export async function adminSession(apiUrl: string, admin: { username: string; password: string }): Promise<string> {
  return (await call(apiUrl, 'POST', '/api/auth/login', {}, admin)).cookie;
}

let lineSeq = 0;

export async function createTenant(
  apiUrl: string,
  adminCookie: string,
  opts: { name: string; simulatorToken: string; graph?: Graph },
): Promise<BenchTenant> {
  const username = `${opts.name}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const { cookie } = await call(apiUrl, 'POST', '/api/auth/register', {}, { username, password, companyName: opts.name });
  const me = (await call(apiUrl, 'GET', '/api/auth/me', { cookie })).json.user;
  const { clientId, apiKey } = (await call(apiUrl, 'POST', '/api/settings/api-access/rotate', { cookie })).json;
  await call(apiUrl, 'PUT', `/api/users/${me.id}`, { cookie: adminCookie }, { apiAccessApproved: true });
  const token = (await call(apiUrl, 'POST', '/api/auth/api-token', {}, { clientId, apiKey, ttlSec: 86400 })).json.accessToken as string;

  const n = ++lineSeq;
  const line = {
    phoneNumberId: `10${String(process.pid).padStart(7, '0')}${String(n).padStart(4, '0')}`,
    wabaId: `20${String(n).padStart(8, '0')}`,
    displayPhoneNumber: `1555${String(n).padStart(7, '0')}`,
  };
  const created = await call(apiUrl, 'POST', '/api/settings/whatsapp', { token }, { ...line, accessToken: opts.simulatorToken, verifyToken: `verify-${n}` });

  let flowId = '';
  if (opts.graph) {
    flowId = (await call(apiUrl, 'POST', '/api/flows', { token }, { name: `${opts.name} flow`, graph: opts.graph })).json.id;
    await call(apiUrl, 'POST', `/api/flows/${flowId}/versions`, { token });
    await call(apiUrl, 'PUT', `/api/flows/${flowId}`, { token }, { status: 'active' });
  }
  return { name: opts.name, tenantId: me.tenantId, token, line: { ...line, id: created.json.id }, flowId };
}

/** Another line of the tenant (the same WhatsApp Business Account), sending at the default 80 messages/s. */
export async function addLine(apiUrl: string, tenant: BenchTenant, simulatorToken: string): Promise<LineRef & { id: string }> {
  const n = ++lineSeq;
  const line = { phoneNumberId: `10${String(process.pid).padStart(7, '0')}${String(n).padStart(4, '0')}`, wabaId: tenant.line.wabaId, displayPhoneNumber: `1555${String(n).padStart(7, '0')}` };
  const created = await call(apiUrl, 'POST', '/api/settings/whatsapp', { token: tenant.token }, { ...line, accessToken: simulatorToken, verifyToken: `verify-${n}` });
  return { ...line, id: created.json.id };
}

/** Several tenants, a few at a time (each registration hashes a password). */
export async function createTenants(
  apiUrl: string,
  adminCookie: string,
  count: number,
  opts: { prefix: string; simulatorToken: string; graph?: Graph },
): Promise<BenchTenant[]> {
  const out: BenchTenant[] = [];
  for (let i = 0; i < count; i += 4) {
    const batch = Array.from({ length: Math.min(4, count - i) }, (_, j) =>
      createTenant(apiUrl, adminCookie, { name: `${opts.prefix}${i + j}`, simulatorToken: opts.simulatorToken, graph: opts.graph }),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}
