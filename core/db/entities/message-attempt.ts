import { EntitySchema } from '@mikro-orm/core';

export const attemptOutcomes = ['pending', 'sent', 'failed', 'skipped'] as const;
export type AttemptOutcome = (typeof attemptOutcomes)[number];

/**
 * One try of a logical send (a message row) on one line with one template: the fallback engine's audit trail.
 * `pending` is an attempt begun and not finished (a transient error is being retried, or the worker died);
 * `skipped` is a candidate not tried (its line cannot send).
 */
export class MessageAttempt {
  messageId!: string;
  attemptNo!: number;
  tenantId!: string;
  lineId?: string | null;
  phoneNumberId!: string;
  templateId?: string | null;
  templateName?: string | null;
  templateLanguage?: string | null;
  outcome!: AttemptOutcome;
  providerMessageId?: string | null;
  errorClass?: string | null;
  errorCode?: number | null;
  errorTitle?: string | null;
  /** Provider calls made for this attempt (transient errors are retried within the attempt). */
  tries = 0;
  startedAt: Date = new Date();
  finishedAt?: Date | null;
}

export const MessageAttemptSchema = new EntitySchema<MessageAttempt>({
  class: MessageAttempt,
  tableName: 'message_attempts',
  properties: {
    messageId: { type: 'uuid', primary: true },
    attemptNo: { type: 'integer', primary: true },
    tenantId: { type: 'uuid' },
    lineId: { type: 'uuid', nullable: true },
    phoneNumberId: { type: 'string' },
    templateId: { type: 'uuid', nullable: true },
    templateName: { type: 'string', nullable: true },
    templateLanguage: { type: 'string', nullable: true },
    outcome: { type: 'string' },
    providerMessageId: { type: 'string', nullable: true },
    errorClass: { type: 'string', nullable: true },
    errorCode: { type: 'integer', nullable: true },
    errorTitle: { type: 'string', nullable: true },
    tries: { type: 'integer' },
    startedAt: { type: 'Date', onCreate: () => new Date() },
    finishedAt: { type: 'Date', nullable: true },
  },
});
