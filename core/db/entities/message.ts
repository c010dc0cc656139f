import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const messageStatuses = ['received', 'queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof messageStatuses)[number];

/**
 * Every message in or out. An outbound message is a row before it is a send: `idempotencyKey` is chosen by
 * the caller (the journey step, the agent's request) so a retried send finds the row and never sends twice.
 */
export class Message {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'attempts';
  id!: string;
  tenantId!: string;
  conversationId!: string;
  direction!: 'in' | 'out';
  type!: string;
  text?: string | null;
  payload!: Record<string, unknown>;
  status!: MessageStatus;
  providerMessageId?: string | null;
  idempotencyKey?: string | null;
  errorCode?: number | null;
  errorTitle?: string | null;
  sentBy?: string | null;
  journeyNode?: string | null;
  /** The trigger's sourceRef and campaignId, for delivery look-ups (check-sent, outbound-status). */
  sourceRef?: string | null;
  campaignId?: string | null;
  /** The template actually sent (a template id or group is resolved at send time). */
  templateName?: string | null;
  attempts = 0;
  sentAt?: Date | null;
  deliveredAt?: Date | null;
  readAt?: Date | null;
  failedAt?: Date | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const MessageSchema = new EntitySchema<Message>({
  class: Message,
  tableName: 'messages',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid' },
    conversationId: { type: 'uuid' },
    direction: { type: 'string' },
    type: { type: 'string' },
    text: { type: 'text', nullable: true },
    payload: { type: 'json' },
    status: { type: 'string' },
    providerMessageId: { type: 'string', nullable: true },
    idempotencyKey: { type: 'string', nullable: true },
    errorCode: { type: 'integer', nullable: true },
    errorTitle: { type: 'string', nullable: true },
    sentBy: { type: 'string', nullable: true },
    journeyNode: { type: 'string', nullable: true },
    sourceRef: { type: 'string', nullable: true },
    campaignId: { type: 'string', nullable: true },
    templateName: { type: 'string', nullable: true },
    attempts: { type: 'integer' },
    sentAt: { type: 'Date', nullable: true },
    deliveredAt: { type: 'Date', nullable: true },
    readAt: { type: 'Date', nullable: true },
    failedAt: { type: 'Date', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
