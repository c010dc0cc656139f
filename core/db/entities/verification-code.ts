import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const verificationChannels = ['email', 'whatsapp'] as const;
export type VerificationChannel = (typeof verificationChannels)[number];

export class VerificationCode {
  [OptionalProps]?: 'tries' | 'createdAt';
  id!: string;
  channel!: VerificationChannel;
  destination!: string;
  /** Set by the delivery activity: the API never sees the plain code. */
  codeHash?: string | null;
  sentAt?: Date | null;
  expiresAt!: Date;
  tries = 0;
  consumedAt?: Date | null;
  createdAt: Date = new Date();
}

export const VerificationCodeSchema = new EntitySchema<VerificationCode>({
  class: VerificationCode,
  tableName: 'verification_codes',
  indexes: [{ properties: ['destination', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    channel: { type: 'string' },
    destination: { type: 'string' },
    codeHash: { type: 'string', nullable: true },
    sentAt: { type: 'Date', nullable: true },
    expiresAt: { type: 'Date' },
    tries: { type: 'integer' },
    consumedAt: { type: 'Date', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});
