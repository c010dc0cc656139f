import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const campaignStatuses = ['running', 'paused', 'completed', 'cancelled', 'failed'] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];

/** What every recipient of a campaign gets: one template (or a template group), with per-recipient params. */
export interface CampaignMessage {
  type: 'template';
  name?: string;
  templateId?: string;
  templateGroupId?: string;
  language: string;
  /** Body parameters for recipients that bring none of their own. */
  params: string[];
}

/**
 * A bulk send: one message to many recipients from one line, run by the campaign workflow at the line's
 * governed rate. The row holds what the API controls (status: pause, resume, cancel); progress is counted
 * from the recipients and their messages.
 */
export class Campaign {
  [OptionalProps]?: 'status' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  lineId!: string;
  name!: string;
  status: CampaignStatus = 'running';
  /** Why it is paused or failed, when FlowBot did it (the line needs re-authentication, …). */
  statusReason?: string | null;
  message!: CampaignMessage;
  sourceRef?: string | null;
  /** The caller's Idempotency-Key: the same key answers the same campaign. */
  idempotencyKey?: string | null;
  createdBy?: string | null;
  recipientCount!: number;
  workflowId!: string;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
  finishedAt?: Date | null;
}

export const CampaignSchema = new EntitySchema<Campaign>({
  class: Campaign,
  tableName: 'campaigns',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid' },
    lineId: { type: 'uuid' },
    name: { type: 'string' },
    status: { type: 'string' },
    statusReason: { type: 'text', nullable: true },
    message: { type: 'json' },
    sourceRef: { type: 'string', nullable: true },
    idempotencyKey: { type: 'string', nullable: true },
    createdBy: { type: 'uuid', nullable: true },
    recipientCount: { type: 'integer' },
    workflowId: { type: 'string' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
    finishedAt: { type: 'Date', nullable: true },
  },
});

/**
 * - pending: not sent yet (or sent back after a retryable error, not before `notBefore`);
 * - sending: claimed by the campaign's page activity, its send under way;
 * - in_doubt: its sender died during the provider call, so it may have gone out: it waits for the provider's
 *   status webhook (which settles it as sent) for a while before it is sent again;
 * - sent: the provider accepted it (its message row follows delivered / read / failed);
 * - failed: the send was refused for good;
 * - skipped: not sent, on purpose (`skipReason`: opted_out, cancelled).
 */
export const recipientStates = ['pending', 'sending', 'in_doubt', 'sent', 'failed', 'skipped'] as const;
export type RecipientState = (typeof recipientStates)[number];

/** One recipient of a campaign. Its id is in its message's idempotency key: `campaign/<campaignId>/<id>`. */
export class CampaignRecipient {
  [OptionalProps]?: 'state' | 'attempts' | 'params' | 'updatedAt';
  id!: string;
  campaignId!: string;
  tenantId!: string;
  /** Digits only, as the channel addresses it. */
  contact!: string;
  params: string[] = [];
  state: RecipientState = 'pending';
  skipReason?: string | null;
  attempts = 0;
  notBefore?: Date | null;
  messageId?: string | null;
  lastError?: string | null;
  updatedAt: Date = new Date();
}

export const CampaignRecipientSchema = new EntitySchema<CampaignRecipient>({
  class: CampaignRecipient,
  tableName: 'campaign_recipients',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    campaignId: { type: 'uuid' },
    tenantId: { type: 'uuid' },
    contact: { type: 'string' },
    params: { type: 'json' },
    state: { type: 'string' },
    skipReason: { type: 'string', nullable: true },
    attempts: { type: 'integer' },
    notBefore: { type: 'Date', nullable: true },
    messageId: { type: 'uuid', nullable: true },
    lastError: { type: 'text', nullable: true },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
