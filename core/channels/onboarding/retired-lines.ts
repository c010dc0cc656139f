import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../../crypto/secret-box';
import { WhatsAppLine } from '../../db/entities';
import { saveLine, type LineChanges } from '../lines';

/**
 * A line removed before a reconnect keeps its id in `whatsapp_retired_lines` (migration 0012): everything that
 * names the line (conversations and their messages, campaigns, flows, journey workflow ids) names it by id, so
 * when the same number is connected again it gets that id back and all of it is the line's again.
 */

interface RetiredRow {
  line_id: string;
  verify_token: string;
  rate_per_second: number;
  preferred_by_groups: string[];
}

/** Records the lines about to be deleted (in the caller's transaction), with the template groups that prefer them. */
export async function retireLines(tem: EntityManager, tenantId: string, lines: WhatsAppLine[]): Promise<void> {
  if (!lines.length) return;
  await tem.execute(
    `insert into whatsapp_retired_lines (tenant_id, phone_number_id, line_id, waba_id, verify_token, rate_per_second, preferred_by_groups)
     select l.tenant_id, l.phone_number_id, l.id, l.waba_id, l.verify_token, l.rate_per_second,
            coalesce((select array_agg(g.id) from template_groups g where g.tenant_id = l.tenant_id and g.preferred_line_id = l.id), '{}')
       from whatsapp_lines l
      where l.tenant_id = ? and l.id = any(?::uuid[])
     on conflict (tenant_id, phone_number_id) do update
        set line_id = excluded.line_id, waba_id = excluded.waba_id, verify_token = excluded.verify_token,
            rate_per_second = excluded.rate_per_second, preferred_by_groups = excluded.preferred_by_groups, retired_at = now()`,
    [tenantId, `{${lines.map((l) => l.id).join(',')}}`],
  );
}

/**
 * Connects a number for the tenant, or gives an existing line of it the new token. A number that had a line
 * before a reset comes back with that line's id, verify token and rate, and as the preferred line of the template
 * groups that had it. Runs in the caller's transaction.
 */
export async function connectLine(tem: EntityManager, box: SecretBox, tenantId: string, changes: LineChanges & { phoneNumberId: string }): Promise<{ line: WhatsAppLine; created: boolean }> {
  const existing = await tem.findOne(WhatsAppLine, { tenantId, phoneNumberId: changes.phoneNumberId });
  const [retired] = existing
    ? []
    : await tem.execute<RetiredRow[]>(
        `delete from whatsapp_retired_lines r where r.tenant_id = ? and r.phone_number_id = ?
           and not exists (select 1 from whatsapp_lines l where l.id = r.line_id)
         returning line_id, verify_token, rate_per_second, preferred_by_groups`,
        [tenantId, changes.phoneNumberId],
      );
  const restored = retired ? { verifyToken: retired.verify_token, ratePerSecond: retired.rate_per_second } : {};
  const saved = await saveLine(tem, box, tenantId, { reuseId: retired?.line_id }, { ...restored, ...changes });
  if (retired?.preferred_by_groups.length) {
    await tem.execute(`update template_groups set preferred_line_id = ?, updated_at = now() where tenant_id = ? and id = any(?::uuid[]) and preferred_line_id is null`, [
      saved.line.id,
      tenantId,
      `{${retired.preferred_by_groups.join(',')}}`,
    ]);
  }
  return saved;
}
