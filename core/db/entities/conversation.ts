import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const conversationStatuses = ['bot', 'agent', 'closed'] as const;
export type ConversationStatus = (typeof conversationStatuses)[number];

/**
 * One customer on one line. The journey workflow holds the in-flight state; this row is what the inbox
 * lists and searches (who, last message, window, who holds it).
 */
export class Conversation {
  [OptionalProps]?: 'status' | 'startedAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  channel!: string;
  lineId!: string;
  contact!: string;
  customerName?: string | null;
  flowId?: string | null;
  flowVersion?: number | null;
  status: ConversationStatus = 'bot';
  assignedUserId?: string | null;
  journeyWorkflowId!: string;
  currentNode?: string | null;
  lastMessage?: string | null;
  lastMessageAt?: Date | null;
  lastCustomerMessageAt?: Date | null;
  /** The line the customer last wrote to for this conversation when it is another line than its own (migration 0019). */
  replyLineId?: string | null;
  startedAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const ConversationSchema = new EntitySchema<Conversation>({
  class: Conversation,
  tableName: 'conversations',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid' },
    channel: { type: 'string' },
    lineId: { type: 'uuid' },
    contact: { type: 'string' },
    customerName: { type: 'string', nullable: true },
    flowId: { type: 'uuid', nullable: true },
    flowVersion: { type: 'integer', nullable: true },
    status: { type: 'string' },
    assignedUserId: { type: 'uuid', nullable: true },
    journeyWorkflowId: { type: 'string' },
    currentNode: { type: 'string', nullable: true },
    lastMessage: { type: 'text', nullable: true },
    lastMessageAt: { type: 'Date', nullable: true },
    lastCustomerMessageAt: { type: 'Date', nullable: true },
    replyLineId: { type: 'uuid', nullable: true },
    startedAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
