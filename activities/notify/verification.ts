import { createHash, randomInt } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { VerificationCode } from '../../core/db/entities';
import type { CodeSender } from './code-sender';

export const hashVerificationCode = (id: string, code: string): string =>
  createHash('sha256').update(`${id}:${code}`).digest('hex');

/**
 * Generates the code here rather than in the API, so the plain code never enters Temporal's history or
 * the database. Idempotent: once a code has been sent, a retry does nothing.
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
