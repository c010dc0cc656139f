import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/secret-box';
import { Tenant, WhatsAppLine, type LineStatus } from '../db/entities';
import { AppError, notFound } from '../errors';
import { newId, randomToken } from '../ids';

/**
 * The WhatsApp lines of a tenant: lookups for the engine (which line an inbound event belongs to, which
 * line sends by default, its token) and the writes behind /api/settings/whatsapp, which keep exactly one
 * primary line per tenant.
 */

/** The tenant of an inbound webhook is the owner of the phone number id Meta names in it. */
export function findLineByPhoneNumberId(em: EntityManager, phoneNumberId: string): Promise<WhatsAppLine | null> {
  return em.findOne(WhatsAppLine, { phoneNumberId });
}

/** The line a tenant sends from unless a flow or campaign names another. */
export function primaryLine(em: EntityManager, tenantId: string): Promise<WhatsAppLine | null> {
  return em.findOne(WhatsAppLine, { tenantId, isPrimary: true });
}

/** The access token in clear, for the Graph API call that needs it and nothing else (never log it). */
export function decryptedAccessToken(line: WhatsAppLine, box: SecretBox): string {
  return box.open(line.accessTokenSealed, tokenContext(line.id));
}

/** After Meta answers 190/10/200 for this line's token: stop sending on it until someone reconnects it. */
export async function markLineNeedsReauth(em: EntityManager, lineId: string): Promise<void> {
  await em.nativeUpdate(WhatsAppLine, { id: lineId, status: 'active' }, { status: 'needs_reauth', updatedAt: new Date() });
}

export function findTenantLine(em: EntityManager, tenantId: string, id: string): Promise<WhatsAppLine | null> {
  return em.findOne(WhatsAppLine, { id, tenantId });
}

export interface LineChanges {
  phoneNumberId?: string;
  wabaId?: string;
  displayPhoneNumber?: string;
  accessToken?: string;
  verifyToken?: string;
  isPrimary?: boolean;
  status?: LineStatus;
  /** Messages per second the governor lets the line send. */
  ratePerSecond?: number;
}

/**
 * Creates or updates a line of the tenant: the one with `target.id` when given (404 when it is not the
 * tenant's), else the one with the phone number id. A phone number id held by another tenant is a conflict.
 * The first line of a tenant becomes primary; making a line primary demotes the previous one in the same
 * transaction. Line writes of one tenant are serialised on its tenant row, so two "first lines" cannot both
 * become primary.
 */
export async function saveLine(
  em: EntityManager,
  box: SecretBox,
  tenantId: string,
  target: {
    id?: string;
    /** The id a new line gets instead of a fresh one: a retired line of the same number coming back. */
    reuseId?: string;
  },
  changes: LineChanges,
): Promise<{ line: WhatsAppLine; created: boolean }> {
  return wrapUnique(() =>
    em.transactional(async (tem) => {
      await tem.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      let line: WhatsAppLine | null = null;
      if (target.id) {
        line = await tem.findOne(WhatsAppLine, { id: target.id, tenantId });
        if (!line) throw notFound('WhatsApp line');
      }
      if (changes.phoneNumberId !== undefined && changes.phoneNumberId !== line?.phoneNumberId) {
        const holder = await tem.findOne(WhatsAppLine, { phoneNumberId: changes.phoneNumberId });
        if (holder && (holder.tenantId !== tenantId || line)) {
          throw new AppError('conflict', `Phone number id ${changes.phoneNumberId} is already connected to ${holder.tenantId === tenantId ? 'another of your lines' : 'another account'}`);
        }
        line ??= holder;
      }
      if (changes.isPrimary === false && line?.isPrimary) {
        throw new AppError('invalid', 'Invalid body: isPrimary: a tenant always has one primary line; make another line primary instead');
      }
      const created = !line;
      if (!line) line = createLine(tem, box, tenantId, changes, target.reuseId);
      else applyChanges(line, box, changes);

      const hasPrimary = (await tem.count(WhatsAppLine, { tenantId, isPrimary: true, id: { $ne: line.id } })) > 0;
      if (changes.isPrimary === true || !hasPrimary) {
        // Demote first: the partial unique index allows one primary per tenant at every statement.
        await tem.nativeUpdate(WhatsAppLine, { tenantId, isPrimary: true, id: { $ne: line.id } }, { isPrimary: false, updatedAt: new Date() });
        line.isPrimary = true;
      }
      await tem.flush();
      return { line, created };
    }),
  );
}

/** Deleting the primary line promotes the oldest remaining one. */
export async function deleteLine(em: EntityManager, tenantId: string, id: string): Promise<void> {
  await em.transactional(async (tem) => {
    await tem.findOneOrFail(Tenant, { id: tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const line = await tem.findOne(WhatsAppLine, { id, tenantId });
    if (!line) throw notFound('WhatsApp line');
    tem.remove(line);
    await tem.flush();
    if (line.isPrimary) {
      const next = await tem.findOne(WhatsAppLine, { tenantId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      if (next) {
        next.isPrimary = true;
        await tem.flush();
      }
    }
  });
}

/** What a person may see of a token: its last four characters, and only when it is long enough to spare them. */
export const maskedToken = (line: WhatsAppLine): string => `****${line.accessTokenHint}`;

const tokenContext = (lineId: string) => `whatsapp_lines.access_token:${lineId}`;
const tokenHint = (token: string) => (token.length >= 12 ? token.slice(-4) : '');

function createLine(em: EntityManager, box: SecretBox, tenantId: string, changes: LineChanges, reuseId?: string): WhatsAppLine {
  const missing = (['phoneNumberId', 'wabaId', 'accessToken'] as const).filter((field) => !changes[field]);
  if (missing.length) throw new AppError('invalid', `Invalid body: ${missing.map((f) => `${f}: required for a new line`).join('; ')}`);
  const id = reuseId ?? newId();
  return em.create(WhatsAppLine, {
    id,
    tenantId,
    phoneNumberId: changes.phoneNumberId!,
    wabaId: changes.wabaId!,
    displayPhoneNumber: changes.displayPhoneNumber ?? '',
    accessTokenSealed: box.seal(changes.accessToken!, tokenContext(id)),
    accessTokenHint: tokenHint(changes.accessToken!),
    verifyToken: changes.verifyToken ?? randomToken(24),
    isPrimary: false,
    status: changes.status ?? 'active',
    ...(changes.ratePerSecond !== undefined ? { ratePerSecond: changes.ratePerSecond } : {}),
  });
}

function applyChanges(line: WhatsAppLine, box: SecretBox, changes: LineChanges): void {
  if (changes.phoneNumberId !== undefined) line.phoneNumberId = changes.phoneNumberId;
  if (changes.wabaId !== undefined) line.wabaId = changes.wabaId;
  if (changes.displayPhoneNumber !== undefined) line.displayPhoneNumber = changes.displayPhoneNumber;
  if (changes.verifyToken !== undefined) line.verifyToken = changes.verifyToken;
  if (changes.accessToken !== undefined) {
    line.accessTokenSealed = box.seal(changes.accessToken, tokenContext(line.id));
    line.accessTokenHint = tokenHint(changes.accessToken);
    // A new token is what a line that needed re-authentication was waiting for.
    if (line.status === 'needs_reauth') line.status = 'active';
  }
  if (changes.status !== undefined) line.status = changes.status;
  if (changes.ratePerSecond !== undefined) line.ratePerSecond = changes.ratePerSecond;
}

/** Two tenants racing for the same phone number id: the unique index decides, the loser gets a 409. */
async function wrapUnique<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException && /phone_number_id/.test(err.message)) {
      throw new AppError('conflict', 'This phone number id is already connected to another account');
    }
    throw err;
  }
}
