import type { EntityManager } from '@mikro-orm/postgresql';
import { Template, TemplateGroup, TemplateGroupMember, WhatsAppLine } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';

/**
 * Template groups: an ordered list of templates of one WhatsApp Business Account (WABA), the order in which
 * the fallback engine tries them, and optionally a preferred line of that WABA (the group's default line,
 * and the line tried when every template failed on the first one).
 */

export interface GroupInput {
  name?: string;
  templateIds?: string[];
  /** Meta's phone number id of one of the tenant's lines; null clears it. */
  preferredPhoneNumberId?: string | null;
}

export interface GroupWithMembers {
  group: TemplateGroup;
  /** In fallback order. */
  templates: Template[];
  preferredLine: WhatsAppLine | null;
}

export async function findGroup(em: EntityManager, tenantId: string, id: string): Promise<TemplateGroup> {
  const group = await em.findOne(TemplateGroup, { id, tenantId });
  if (!group) throw notFound('Template group');
  return group;
}

/** The group's templates, in fallback order. */
export async function groupTemplates(em: EntityManager, group: TemplateGroup): Promise<Template[]> {
  const members = await em.find(TemplateGroupMember, { groupId: group.id }, { orderBy: { position: 'asc' } });
  const templates = await em.find(Template, { id: { $in: members.map((m) => m.templateId) }, tenantId: group.tenantId });
  const byId = new Map(templates.map((t) => [t.id, t]));
  return members.map((m) => byId.get(m.templateId)).filter((t): t is Template => t !== undefined);
}

export async function withMembers(em: EntityManager, group: TemplateGroup): Promise<GroupWithMembers> {
  const [templates, preferredLine] = await Promise.all([
    groupTemplates(em, group),
    group.preferredLineId ? em.findOne(WhatsAppLine, { id: group.preferredLineId, tenantId: group.tenantId }) : null,
  ]);
  return { group, templates, preferredLine };
}

export async function listGroups(em: EntityManager, tenantId: string): Promise<GroupWithMembers[]> {
  const groups = await em.find(TemplateGroup, { tenantId }, { orderBy: { name: 'asc', id: 'asc' } });
  return Promise.all(groups.map((g) => withMembers(em, g)));
}

const invalid = (field: string, message: string) => new AppError('invalid', `Invalid body: ${field}: ${message}`);

/** The templates (tenant's own, one WABA) and the preferred line (tenant's own, same WABA) a change asks for. */
async function checked(em: EntityManager, tenantId: string, templateIds: string[], preferredPhoneNumberId: string | null | undefined) {
  const found = templateIds.length ? await em.find(Template, { tenantId, id: { $in: templateIds } }) : [];
  const byId = new Map(found.map((t) => [t.id, t]));
  const missing = templateIds.findIndex((id) => !byId.has(id));
  if (missing >= 0) throw invalid(`templateIds.${missing}`, `no template with id ${templateIds[missing]} in your account`);
  const templates = templateIds.map((id) => byId.get(id)!);
  const wabaIds = [...new Set(templates.map((t) => t.wabaId))];
  if (wabaIds.length > 1) {
    throw invalid('templateIds', `all templates of a group must belong to one WhatsApp Business Account; these belong to ${wabaIds.join(' and ')}`);
  }
  if (!preferredPhoneNumberId) return { templates, preferredLine: null };
  const line = await em.findOne(WhatsAppLine, { tenantId, phoneNumberId: preferredPhoneNumberId });
  if (!line) throw invalid('preferredPhoneNumberId', `none of your WhatsApp lines has phone number id ${preferredPhoneNumberId}`);
  if (wabaIds.length && line.wabaId !== wabaIds[0]) {
    throw invalid(
      'preferredPhoneNumberId',
      `the line ${preferredPhoneNumberId} belongs to WhatsApp Business Account ${line.wabaId}, the group's templates to ${wabaIds[0]}: it must be a line of the same account`,
    );
  }
  return { templates, preferredLine: line };
}

/** Creates a group, or changes one (the fields given); the members are replaced as a whole, in the order given. */
export async function saveGroup(em: EntityManager, tenantId: string, id: string | undefined, input: GroupInput): Promise<GroupWithMembers> {
  return em.transactional(async (tem) => {
    const group = id ? await findGroup(tem, tenantId, id) : undefined;
    const templateIds = input.templateIds ?? (group ? (await groupTemplates(tem, group)).map((t) => t.id) : []);
    const preferred =
      input.preferredPhoneNumberId !== undefined
        ? input.preferredPhoneNumberId
        : group?.preferredLineId
          ? ((await tem.findOne(WhatsAppLine, { id: group.preferredLineId }))?.phoneNumberId ?? null)
          : null;
    const { templates, preferredLine } = await checked(tem, tenantId, templateIds, preferred);
    const saved = group ?? tem.create(TemplateGroup, { id: newId(), tenantId, name: input.name! });
    if (input.name !== undefined) saved.name = input.name;
    saved.preferredLineId = preferredLine?.id ?? null;
    saved.updatedAt = new Date();
    await tem.flush();
    if (input.templateIds) {
      await tem.nativeDelete(TemplateGroupMember, { groupId: saved.id });
      templates.forEach((t, position) => tem.create(TemplateGroupMember, { groupId: saved.id, position, templateId: t.id }));
      await tem.flush();
    }
    return { group: saved, templates, preferredLine };
  });
}

export async function deleteGroup(em: EntityManager, tenantId: string, id: string): Promise<void> {
  const group = await findGroup(em, tenantId, id);
  await em.remove(group).flush();
}
