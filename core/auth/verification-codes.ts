import { createHash, timingSafeEqual } from 'node:crypto';
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { User, VerificationCode } from '../db/entities';
import { AppError } from '../errors';

/** Salted with the row id, so equal codes sent to different people never share a stored hash. */
export const hashVerificationCode = (id: string, code: string): string => createHash('sha256').update(`${id}:${code}`).digest('hex');

function codeMatches(row: VerificationCode, code: string): boolean {
  if (!row.codeHash) return false;
  const given = Buffer.from(hashVerificationCode(row.id, code), 'hex');
  const stored = Buffer.from(row.codeHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** Phone destinations are kept as `+` and digits; users may have saved theirs with or without the `+`. */
const phoneVariants = (destination: string): string[] => [destination, destination.replace(/^\+/, '')];

type Outcome = { ok: true } | { ok: false; kind: 'invalid' | 'rate_limited'; message: string };

/**
 * Checks a code against the newest one sent to `destination`. The row is locked for the check, so parallel
 * guesses are counted one after another and cannot share a try. Every check answers with an outcome
 * rather than throwing inside the transaction, so a wrong try's count is committed, not rolled back.
 * On success the code is consumed (single use) and the users who own the destination are marked verified.
 */
export async function checkVerificationCode(
  em: EntityManager,
  input: { destination: string; code: string; verificationId?: string; maxTries: number },
): Promise<void> {
  const outcome = await em.transactional(async (tem): Promise<Outcome> => {
    const row = await tem.findOne(
      VerificationCode,
      { destination: input.destination },
      { orderBy: { createdAt: 'desc' }, lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!row) return { ok: false, kind: 'invalid', message: 'No verification code was requested for this destination' };
    if (input.verificationId && input.verificationId !== row.id) {
      return { ok: false, kind: 'invalid', message: 'A newer code was sent to this destination: enter the code from the latest message' };
    }
    if (row.consumedAt) return { ok: false, kind: 'invalid', message: 'This code has already been used: request a new one' };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, kind: 'invalid', message: 'The code expired: request a new one' };
    if (row.tries >= input.maxTries) {
      return { ok: false, kind: 'rate_limited', message: 'Too many wrong tries: this code no longer works; request a new one' };
    }
    if (!row.codeHash) return { ok: false, kind: 'invalid', message: 'The code is still being sent: wait for it and try again' };
    if (!codeMatches(row, input.code)) {
      row.tries += 1;
      const left = input.maxTries - row.tries;
      if (left <= 0) {
        return { ok: false, kind: 'rate_limited', message: 'Wrong code, and too many wrong tries: this code no longer works; request a new one' };
      }
      return { ok: false, kind: 'invalid', message: `Wrong code: ${left} ${left === 1 ? 'try' : 'tries'} left` };
    }
    const now = new Date();
    row.consumedAt = now;
    if (row.channel === 'email') {
      await tem.nativeUpdate(User, { email: row.destination, emailVerifiedAt: null }, { emailVerifiedAt: now, updatedAt: now });
    } else {
      await tem.nativeUpdate(User, { phone: { $in: phoneVariants(row.destination) }, phoneVerifiedAt: null }, { phoneVerifiedAt: now, updatedAt: now });
    }
    return { ok: true };
  });
  if (!outcome.ok) throw new AppError(outcome.kind, outcome.message);
}
