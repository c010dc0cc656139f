import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const lineStatuses = ['active', 'needs_reauth', 'disabled'] as const;
export type LineStatus = (typeof lineStatuses)[number];

/**
 * A WhatsApp Business phone number connected to a tenant. Meta's phone number id is unique across the
 * installation: it is how an inbound webhook finds its tenant. Exactly one line of a tenant is primary
 * (a partial unique index holds the "at most", core/channels/lines.ts the "at least").
 */
export class WhatsAppLine {
  [OptionalProps]?: 'isPrimary' | 'status' | 'ratePerSecond' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  phoneNumberId!: string;
  wabaId!: string;
  displayPhoneNumber!: string;
  /** Sealed by core/crypto/secret-box.ts with the line id as context; read it with decryptedAccessToken. */
  accessTokenSealed!: string;
  /** The last characters of the token, so a person can tell tokens apart without the secret. */
  accessTokenHint!: string;
  /** Answers Meta's webhook verification handshake. */
  verifyToken!: string;
  isPrimary = false;
  status: LineStatus = 'active';
  /** Messages per second the line may send (Meta: 80 by default, up to 1,000); core/channels/rate-governor.ts keeps to it. */
  ratePerSecond = 80;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const WhatsAppLineSchema = new EntitySchema<WhatsAppLine>({
  class: WhatsAppLine,
  tableName: 'whatsapp_lines',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    phoneNumberId: { type: 'string', unique: true },
    wabaId: { type: 'string' },
    displayPhoneNumber: { type: 'string' },
    accessTokenSealed: { type: 'text' },
    accessTokenHint: { type: 'string' },
    verifyToken: { type: 'string' },
    isPrimary: { type: 'boolean' },
    status: { type: 'string' },
    ratePerSecond: { type: 'integer' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
