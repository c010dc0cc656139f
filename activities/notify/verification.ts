import { randomInt } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { hashVerificationCode } from '../../core/auth/verification-codes';
import { VerificationCode } from '../../core/db/entities';
import type { CodeSender } from './code-sender';

/**
 * Generates the code here rather than in the API, so the plain code never enters Temporal's history or
 * the database. Idempotent: once a code has been sent, a retry does nothing. A retry after a failed send
 * makes a fresh code (the plain one is not kept anywhere) and replaces the stored hash, so only the code
 * that was last handed to the provider works.
 */
export function verificationActivities(deps: { orm: MikroORM; sender: CodeSender }) {
  return {
    async deliverVerificationCode(verificationId: string): Promise<'sent' | 'already-sent' | 'expired'> {
      const em = deps.orm.em.fork();
      const row = await em.findOne(VerificationCode, { id: verificationId });
      if (!row || row.consumedAt || row.expiresAt.getTime() <= Date.now()) return 'expired';
      if (row.sentAt) return 'already-sent';
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      row.codeHash = hashVerificationCode(row.id, code);
      await em.flush();
      await deps.sender.send({
        channel: row.channel,
        destination: row.destination,
        code,
        text: `Your FlowBot verification code is ${code}`,
      });
      row.sentAt = new Date();
      await em.flush();
      return 'sent';
    },
  };
}
