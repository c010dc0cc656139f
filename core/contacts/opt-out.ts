import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { OptOutSource } from '../db/entities';

/**
 * Who does not want bulk messages. A contact opts out by writing one of the tenant's stop keywords (by
 * default STOP, UNSUBSCRIBE or הסר, "remove"), by stopping marketing messages in WhatsApp (Meta's
 * user_preferences webhook), or through the API; a start keyword (START), Meta's "resume" or the API opts
 * them back in. Campaigns skip opted-out contacts. Journeys and agents' replies are not affected: the
 * customer is the one writing.
 */

export const defaultStopKeywords: readonly string[] = ['STOP', 'UNSUBSCRIBE', 'הסר'];
export const defaultStartKeywords: readonly string[] = ['START'];

export interface OptOutKeywords {
  stopKeywords: string[];
  startKeywords: string[];
}

/** A keyword as it is compared: the whole message, trimmed of spaces, punctuation and emoji, in upper case. */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '')
    .replace(/\s+/g, ' ')
    .toUpperCase();
}

export async function optOutKeywords(em: EntityManager, tenantId: string): Promise<OptOutKeywords> {
  const [row] = await em
    .getConnection()
    .execute<Array<{ stop_keywords: string[]; start_keywords: string[] }>>(`select stop_keywords, start_keywords from opt_out_settings where tenant_id = ?`, [tenantId]);
  return row ? { stopKeywords: row.stop_keywords, startKeywords: row.start_keywords } : { stopKeywords: [...defaultStopKeywords], startKeywords: [...defaultStartKeywords] };
}

export async function saveOptOutKeywords(em: EntityManager, tenantId: string, keywords: OptOutKeywords): Promise<OptOutKeywords> {
  const clean = (list: string[]) => [...new Set(list.map(normalizeKeyword).filter(Boolean))];
  const saved = { stopKeywords: clean(keywords.stopKeywords), startKeywords: clean(keywords.startKeywords) };
  await em.getConnection().execute(
    `insert into opt_out_settings (tenant_id, stop_keywords, start_keywords)
     values (?, array(select jsonb_array_elements_text(?::jsonb)), array(select jsonb_array_elements_text(?::jsonb)))
     on conflict (tenant_id) do update set stop_keywords = excluded.stop_keywords, start_keywords = excluded.start_keywords, updated_at = now()`,
    [tenantId, JSON.stringify(saved.stopKeywords), JSON.stringify(saved.startKeywords)],
  );
  return saved;
}

/** Records the opt-out (again: the latest source and detail win). */
export async function optOut(em: EntityManager, req: { tenantId: string; contact: string; source: OptOutSource; detail?: string | null; at?: Date }): Promise<void> {
  await em.getConnection().execute(
    `insert into contact_opt_outs (tenant_id, contact, source, detail, opted_out_at) values (?, ?, ?, ?, ?)
     on conflict (tenant_id, contact) do update set source = excluded.source, detail = excluded.detail, opted_out_at = excluded.opted_out_at`,
    [req.tenantId, req.contact, req.source, req.detail?.slice(0, 500) ?? null, req.at ?? new Date()],
  );
}

/** Removes the opt-out; true when there was one. */
export async function optIn(em: EntityManager, tenantId: string, contact: string): Promise<boolean> {
  const rows = await em.getConnection().execute<Array<{ contact: string }>>(`delete from contact_opt_outs where tenant_id = ? and contact = ? returning contact`, [tenantId, contact]);
  return rows.length > 0;
}

export async function isOptedOut(em: EntityManager, tenantId: string, contact: string): Promise<boolean> {
  const rows = await em.getConnection().execute(`select 1 from contact_opt_outs where tenant_id = ? and contact = ?`, [tenantId, contact]);
  return rows.length > 0;
}

/**
 * For an inbound message: a stop keyword opts the sender out, a start keyword back in. Only a message that is
 * the keyword alone counts ("stop!" does, "don't stop" does not), so a conversation is never misread.
 */
export async function applyOptOutKeyword(
  em: EntityManager,
  req: { tenantId: string; contact: string; text: string | undefined },
): Promise<'opted_out' | 'opted_in' | undefined> {
  if (!req.text || req.text.length > 100) return undefined;
  const said = normalizeKeyword(req.text);
  if (!said) return undefined;
  const keywords = await optOutKeywords(em, req.tenantId);
  if (keywords.stopKeywords.includes(said)) {
    await optOut(em, { tenantId: req.tenantId, contact: req.contact, source: 'keyword', detail: said });
    return 'opted_out';
  }
  if (keywords.startKeywords.includes(said)) {
    await optIn(em, req.tenantId, req.contact);
    return 'opted_in';
  }
  return undefined;
}

const userPreferencesSchema = z.looseObject({
  user_preferences: z.array(
    z.looseObject({
      wa_id: z.string(),
      category: z.string(),
      value: z.string(),
      detail: z.string().optional(),
      timestamp: z.union([z.string(), z.number()]).optional(),
    }),
  ),
});

/**
 * Meta's `user_preferences` webhook value: a WhatsApp user stopped or resumed marketing messages from the
 * business. Returns how many preferences it applied.
 */
export async function applyMarketingPreferences(em: EntityManager, tenantId: string, value: unknown): Promise<number> {
  const parsed = userPreferencesSchema.safeParse(value);
  if (!parsed.success) return 0;
  let applied = 0;
  for (const p of parsed.data.user_preferences) {
    if (p.category !== 'marketing_messages') continue;
    const at = p.timestamp !== undefined && Number.isFinite(Number(p.timestamp)) ? new Date(Number(p.timestamp) * 1000) : undefined;
    if (p.value === 'stop') await optOut(em, { tenantId, contact: p.wa_id, source: 'meta', detail: p.detail ?? 'Stopped marketing messages in WhatsApp', at });
    else if (p.value === 'resume') await optIn(em, tenantId, p.wa_id);
    else continue;
    applied++;
  }
  return applied;
}
