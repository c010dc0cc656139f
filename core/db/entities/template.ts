import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const templateCategories = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export type TemplateCategory = (typeof templateCategories)[number];

/** Meta's review states of a message template; only APPROVED templates can be sent. */
export const templateStatuses = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export type TemplateStatus = (typeof templateStatuses)[number];

/**
 * A WhatsApp message template of a tenant, as its WhatsApp Business Account (WABA) holds it. The provider is
 * authoritative: rows are written after Meta accepted the change, status webhooks and sync keep them current.
 */
export class Template {
  [OptionalProps]?: 'components' | 'providerTemplateId' | 'rejectedReason' | 'qualityScore' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  wabaId!: string;
  /** Meta's template id (the `hsm_id`). */
  providerTemplateId?: string | null;
  name!: string;
  language!: string;
  category!: TemplateCategory;
  /** Meta's template definition components (HEADER, BODY, FOOTER, BUTTONS), as submitted or synced. */
  components: unknown[] = [];
  status!: TemplateStatus;
  rejectedReason?: string | null;
  /** GREEN, YELLOW, RED or UNKNOWN, from message_template_quality_update. */
  qualityScore?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const TemplateSchema = new EntitySchema<Template>({
  class: Template,
  tableName: 'templates',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    wabaId: { type: 'string' },
    providerTemplateId: { type: 'string', nullable: true },
    name: { type: 'string' },
    language: { type: 'string' },
    category: { type: 'string' },
    components: { type: 'json' },
    status: { type: 'string' },
    rejectedReason: { type: 'text', nullable: true },
    qualityScore: { type: 'string', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});

/** An ordered list of templates: the fallback order of a template send, optionally tied to a preferred line. */
export class TemplateGroup {
  [OptionalProps]?: 'preferredLineId' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  name!: string;
  /** A line of the same WABA as the group's templates: the group's default line, and its fallback line. */
  preferredLineId?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const TemplateGroupSchema = new EntitySchema<TemplateGroup>({
  class: TemplateGroup,
  tableName: 'template_groups',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    name: { type: 'string' },
    preferredLineId: { type: 'uuid', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});

/** A template's place in a group; position 0 is tried first. */
export class TemplateGroupMember {
  groupId!: string;
  position!: number;
  templateId!: string;
}

export const TemplateGroupMemberSchema = new EntitySchema<TemplateGroupMember>({
  class: TemplateGroupMember,
  tableName: 'template_group_members',
  properties: {
    groupId: { type: 'uuid', primary: true },
    position: { type: 'integer', primary: true },
    templateId: { type: 'uuid' },
  },
});
