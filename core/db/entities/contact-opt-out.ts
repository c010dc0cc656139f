import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const optOutSources = ['keyword', 'meta', 'api', 'provider_error'] as const;
export type OptOutSource = (typeof optOutSources)[number];

/**
 * A contact of a tenant who does not want bulk messages: they wrote a STOP keyword, stopped marketing
 * messages in WhatsApp (Meta's user_preferences webhook), were opted out through the API, or Meta refused a
 * marketing message because they had (131050). Campaigns skip them. A START keyword removes the row.
 */
export class ContactOptOut {
  [OptionalProps]?: 'optedOutAt';
  tenantId!: string;
  /** Digits only (Meta's wa_id). */
  contact!: string;
  source!: OptOutSource;
  /** The keyword written, or Meta's description of the change. */
  detail?: string | null;
  optedOutAt: Date = new Date();
}

export const ContactOptOutSchema = new EntitySchema<ContactOptOut>({
  class: ContactOptOut,
  tableName: 'contact_opt_outs',
  properties: {
    tenantId: { type: 'uuid', primary: true },
    contact: { type: 'string', primary: true },
    source: { type: 'string' },
    detail: { type: 'text', nullable: true },
    optedOutAt: { type: 'Date', onCreate: () => new Date() },
  },
});

/** A tenant's opt-out keywords; without a row the defaults of core/contacts/opt-out.ts apply. */
export class OptOutSettings {
  [OptionalProps]?: 'updatedAt';
  tenantId!: string;
  stopKeywords!: string[];
  startKeywords!: string[];
  updatedAt: Date = new Date();
}

export const OptOutSettingsSchema = new EntitySchema<OptOutSettings>({
  class: OptOutSettings,
  tableName: 'opt_out_settings',
  properties: {
    tenantId: { type: 'uuid', primary: true },
    stopKeywords: { type: 'text[]' },
    startKeywords: { type: 'text[]' },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
