import type { EntityManager } from '@mikro-orm/postgresql';
import type { Template, WhatsAppLine } from '../db/entities';
import { AppError, notFound } from '../errors';
import { findTemplate } from './catalogue';
import { findGroup, withMembers } from './groups';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A template send by reference rather than by name: one template of ours, or a group of them. */
export interface TemplateReference {
  templateId?: string;
  templateGroupId?: string;
}

export interface ResolvedReference {
  /** The APPROVED templates the reference stands for, in fallback order (never empty). */
  templates: Template[];
  /** The group's preferred line, if the reference is a group that has one. */
  preferredLine: WhatsAppLine | null;
}

/**
 * What a template reference of a tenant stands for. A group is preferred over a single template id. Throws
 * not_found for an id that is not the tenant's, invalid when nothing in it is APPROVED (Meta would refuse it).
 */
export async function resolveTemplateReference(em: EntityManager, tenantId: string, ref: TemplateReference): Promise<ResolvedReference> {
  // A flow node may carry any text (an imported Drawflow flow): what is not an id of ours does not exist.
  if (ref.templateGroupId && !uuidShape.test(ref.templateGroupId)) throw notFound('Template group');
  if (ref.templateId && !uuidShape.test(ref.templateId)) throw notFound('Template');
  if (ref.templateGroupId) {
    const { group, templates, preferredLine } = await withMembers(em, await findGroup(em, tenantId, ref.templateGroupId));
    const approved = templates.filter((t) => t.status === 'APPROVED');
    if (!approved.length) {
      const states = templates.map((t) => `${t.name} (${t.language}) is ${t.status}`).join(', ');
      throw new AppError('invalid', `templateGroupId: the template group "${group.name}" has no APPROVED template${states ? `: ${states}` : ''}`);
    }
    return { templates: approved, preferredLine };
  }
  if (!ref.templateId) throw new AppError('invalid', 'templateId: give a template id or a template group id');
  const template = await findTemplate(em, tenantId, ref.templateId);
  if (template.status !== 'APPROVED') throw new AppError('invalid', `templateId: the template ${template.name} (${template.language}) is ${template.status}, not APPROVED`);
  return { templates: [template], preferredLine: null };
}
