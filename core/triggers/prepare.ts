import type { EntityManager } from '@mikro-orm/postgresql';
import { findTenantLine, primaryLine } from '../channels/lines';
import { Flow, WhatsAppLine } from '../db/entities';
import { AppError, notFound } from '../errors';
import type { NodeType } from '../flow/catalogue';
import { latestPublishedVersion, type PublishedFlow } from '../flows/repository';
import type { Variables } from '../journey/types';

/** The flow a trigger starts: active, published, and holding a node of the trigger's kind. */
export async function triggerableFlow(
  em: EntityManager,
  flow: Flow,
  nodeTypes: readonly NodeType[],
  label: string,
): Promise<PublishedFlow> {
  if (flow.status !== 'active') throw new AppError('invalid', `Flow ${flow.id} is ${flow.status}: activate it before triggering it`);
  const published = await latestPublishedVersion(em, flow.tenantId, flow.id);
  if (!published) throw new AppError('invalid', `Flow ${flow.id} has no published version`);
  if (!published.graph.nodes.some((n) => nodeTypes.includes(n.type))) {
    throw new AppError('invalid', `Flow ${flow.id} has no ${label} node in its published version ${published.version}`);
  }
  return published;
}

/**
 * Which line a trigger sends from: the one the caller names (Meta's phone number id), else the flow's own
 * line, else the tenant's primary line.
 */
export async function lineForTrigger(em: EntityManager, flow: Flow, phoneNumberId?: string): Promise<WhatsAppLine> {
  if (phoneNumberId) {
    const line = await em.findOne(WhatsAppLine, { tenantId: flow.tenantId, phoneNumberId });
    if (!line) throw notFound(`WhatsApp line with phone number id ${phoneNumberId}`);
    return line;
  }
  const own = flow.whatsappLineId ? await findTenantLine(em, flow.tenantId, flow.whatsappLineId) : null;
  const line = own ?? (await primaryLine(em, flow.tenantId));
  if (!line) throw new AppError('invalid', 'No WhatsApp line is configured: add one in Settings → WhatsApp');
  return line;
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
