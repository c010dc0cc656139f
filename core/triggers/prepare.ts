import type { EntityManager } from '@mikro-orm/postgresql';
import type { FlowStatus } from '../db/entities';
import { AppError, notFound } from '../errors';
import type { NodeType } from '../flow/catalogue';
import { getVersion, type PublishedFlow } from '../flows/repository';
import type { Variables } from '../journey/types';

/**
 * What a trigger needs of its flow, read in one statement (triggers are the API's hot path: every start of
 * a journey from outside goes through here): the flow row, its newest published version, and the lines it
 * may send from.
 */
export interface TriggerFlow {
  id: string;
  tenantId: string;
  status: FlowStatus;
  /** The line the flow is bound to, as stored (`lines.own` is that line if it is still the tenant's). */
  whatsappLineId: string | null;
  createdBy: string | null;
  /** The newest published version number; null before the first publish. */
  latestVersion: number | null;
  /** The tenant's line with the phone number id asked for (`phoneNumberId`), the flow's own line, the tenant's primary line. */
  lines: { named: string | null; own: string | null; primary: string | null };
  phoneNumberId?: string;
}

/** The flow with this id (of this tenant, when given), or null. */
export async function loadTriggerFlow(
  em: EntityManager,
  flowId: string,
  opts: { tenantId?: string; phoneNumberId?: string } = {},
): Promise<TriggerFlow | null> {
  const rows = await em.getConnection().execute<
    Array<{ id: string; tenant_id: string; status: FlowStatus; whatsapp_line_id: string | null; created_by: string | null; version: number | null; named: string | null; own: string | null; primary_line: string | null }>
  >(
    `select f.id, f.tenant_id, f.status, f.whatsapp_line_id, f.created_by,
       (select max(v.version) from flow_versions v where v.flow_id = f.id and v.tenant_id = f.tenant_id) as version,
       (select l.id from whatsapp_lines l where l.tenant_id = f.tenant_id and l.phone_number_id = ?) as named,
       (select l.id from whatsapp_lines l where l.tenant_id = f.tenant_id and l.id = f.whatsapp_line_id) as own,
       (select l.id from whatsapp_lines l where l.tenant_id = f.tenant_id and l.is_primary limit 1) as primary_line
     from flows f where f.id = ? and (?::uuid is null or f.tenant_id = ?::uuid)`,
    [opts.phoneNumberId ?? null, flowId, opts.tenantId ?? null, opts.tenantId ?? null],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    status: row.status,
    whatsappLineId: row.whatsapp_line_id,
    createdBy: row.created_by,
    latestVersion: row.version === null ? null : Number(row.version),
    lines: { named: row.named, own: row.own, primary: row.primary_line },
    phoneNumberId: opts.phoneNumberId,
  };
}

/**
 * Published versions are immutable (a database trigger allows only the admin shape upgrade, which keeps
 * their behaviour), so the API keeps the last few it parsed instead of loading and upgrading the same graph
 * on every trigger. The flow's status and newest version are still read on every call. Callers must not
 * change the graph they get.
 */
const PUBLISHED_CACHE_SIZE = 200;
const publishedCache = new Map<string, PublishedFlow>();

async function publishedVersion(em: EntityManager, flow: TriggerFlow, version: number): Promise<PublishedFlow | null> {
  const key = `${flow.id}/${version}`;
  const hit = publishedCache.get(key);
  if (hit) {
    publishedCache.delete(key);
    publishedCache.set(key, hit);
    return hit;
  }
  const loaded = await getVersion(em, flow.id, version, flow.tenantId);
  if (!loaded) return null;
  publishedCache.set(key, loaded);
  if (publishedCache.size > PUBLISHED_CACHE_SIZE) publishedCache.delete(publishedCache.keys().next().value!);
  return loaded;
}

/** The newest published version of the flow, whatever its status (null before the first publish). */
export function latestPublished(em: EntityManager, flow: TriggerFlow): Promise<PublishedFlow | null> {
  return flow.latestVersion === null ? Promise.resolve(null) : publishedVersion(em, flow, flow.latestVersion);
}

/** The flow a trigger starts: active, published, and holding a node of the trigger's kind. */
export async function triggerableFlow(
  em: EntityManager,
  flow: TriggerFlow,
  nodeTypes: readonly NodeType[],
  label: string,
): Promise<PublishedFlow> {
  if (flow.status !== 'active') throw new AppError('invalid', `Flow ${flow.id} is ${flow.status}: activate it before triggering it`);
  const published = await latestPublished(em, flow);
  if (!published) throw new AppError('invalid', `Flow ${flow.id} has no published version`);
  if (!published.graph.nodes.some((n) => nodeTypes.includes(n.type))) {
    throw new AppError('invalid', `Flow ${flow.id} has no ${label} node in its published version ${published.version}`);
  }
  return published;
}

/**
 * Which line a trigger sends from (its id): the one the caller names (Meta's phone number id), else the
 * flow's own line, else the tenant's primary line.
 */
export async function lineForTrigger(em: EntityManager, flow: TriggerFlow, phoneNumberId?: string): Promise<string> {
  if (phoneNumberId) {
    const id =
      phoneNumberId === flow.phoneNumberId
        ? flow.lines.named
        : ((await em.getConnection().execute<Array<{ id: string }>>(`select id from whatsapp_lines where tenant_id = ? and phone_number_id = ?`, [flow.tenantId, phoneNumberId]))[0]?.id ?? null);
    if (!id) throw notFound(`WhatsApp line with phone number id ${phoneNumberId}`);
    return id;
  }
  const id = flow.lines.own ?? flow.lines.primary;
  if (!id) throw new AppError('invalid', 'No WhatsApp line is configured: add one in Settings → WhatsApp');
  return id;
}

/** A phone number as the channel addresses it: digits only, no "+" (Meta's wa_id). */
export function contactOf(phone: string): string {
  const digits = phone.replace(/[\s()+.-]/g, '');
  if (!/^[1-9]\d{6,14}$/.test(digits)) throw new AppError('invalid', `phone: "${phone}" is not a phone number in international format, e.g. +972501234567`);
  return digits;
}

/** Flow variables are strings; other JSON values are kept as their JSON text. */
export function toVariables(data: Record<string, unknown>): Variables {
  const out: Variables = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  }
  return out;
}
