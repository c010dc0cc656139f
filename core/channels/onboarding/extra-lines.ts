import type { EntityManager } from '@mikro-orm/postgresql';
import { isRegisteredWithCloudApi, listAllPhoneNumbers, type WabaPhoneNumber } from '../../../activities/channels/whatsapp/onboarding';
import { WhatsAppLine } from '../../db/entities';
import { AppError } from '../../errors';
import { decryptedAccessToken, primaryLine } from '../lines';
import { withLineToken, type OnboardingAccess } from './meta';
import { connectLine } from './retired-lines';

/**
 * More numbers of a WhatsApp Business Account (WABA) the tenant already connected: they share the token of the
 * line they are added from (by default the primary line; Embedded Signup's business token covers the whole WABA).
 */

/** The line whose WABA and token are meant: the primary line, or with `wabaId` one of the tenant's lines in it. */
async function sourceLine(em: EntityManager, tenantId: string, wabaId: string | undefined): Promise<WhatsAppLine> {
  if (wabaId) {
    const lines = await em.find(WhatsAppLine, { tenantId, wabaId }, { orderBy: { isPrimary: 'desc', createdAt: 'asc', id: 'asc' } });
    const line = lines.find((l) => l.status === 'active') ?? lines[0];
    if (!line) throw new AppError('invalid', `None of your WhatsApp lines belongs to WhatsApp Business Account ${wabaId}`);
    return line;
  }
  const line = await primaryLine(em, tenantId);
  if (!line) throw new AppError('invalid', 'No WhatsApp line is connected: connect one with Embedded Signup first');
  return line;
}

async function phonesOf(em: EntityManager, access: OnboardingAccess, line: WhatsAppLine): Promise<WabaPhoneNumber[]> {
  return withLineToken(em, access, line, `list the phone numbers of WhatsApp Business Account ${line.wabaId}`, (accessToken) =>
    listAllPhoneNumbers(access.client, { wabaId: line.wabaId, accessToken }),
  );
}

/** The WABA's numbers that are no line of FlowBot yet (of any account). */
export async function listExtraLines(em: EntityManager, access: OnboardingAccess, tenantId: string, wabaId?: string): Promise<{ wabaId: string; phoneNumbers: WabaPhoneNumber[] }> {
  const line = await sourceLine(em, tenantId, wabaId);
  const phones = await phonesOf(em, access, line);
  const connected = phones.length
    ? new Set((await em.find(WhatsAppLine, { phoneNumberId: { $in: phones.map((p) => p.id) } }, { fields: ['phoneNumberId'] })).map((l) => l.phoneNumberId))
    : new Set<string>();
  return { wabaId: line.wabaId, phoneNumbers: phones.filter((p) => !connected.has(p.id)) };
}

export interface ExtraLineRequest {
  phoneNumberId: string;
  wabaId?: string;
  /** Only register the number with the Cloud API (it must then have `pin`); no line is added. */
  registerOnly?: boolean;
  /** Two-step verification PIN: registers the number first when it is not registered yet. */
  pin?: string;
}

export type ExtraLineResult =
  | { kind: 'registered'; wabaId: string; phone: WabaPhoneNumber }
  | { kind: 'line'; line: WhatsAppLine; phone: WabaPhoneNumber; registeredNow: boolean };

export async function addExtraLine(em: EntityManager, access: OnboardingAccess, tenantId: string, req: ExtraLineRequest): Promise<ExtraLineResult> {
  const source = await sourceLine(em, tenantId, req.wabaId);
  const phone = (await phonesOf(em, access, source)).find((p) => p.id === req.phoneNumberId);
  if (!phone) throw new AppError('invalid', `Phone number id ${req.phoneNumberId} is not a number of WhatsApp Business Account ${source.wabaId}`);

  const register = async () => {
    await withLineToken(em, access, source, `register phone number ${phone.displayPhoneNumber || phone.id} with the Cloud API`, (accessToken) =>
      access.client.registerPhoneNumber({ phoneNumberId: phone.id, accessToken, pin: req.pin! }),
    );
    return { ...phone, status: 'CONNECTED', platformType: 'CLOUD_API' };
  };
  if (req.registerOnly) return { kind: 'registered', wabaId: source.wabaId, phone: await register() };

  const holder = await em.findOne(WhatsAppLine, { phoneNumberId: phone.id }, { fields: ['tenantId'] });
  if (holder) {
    throw new AppError('conflict', `Phone number id ${phone.id} is already connected ${holder.tenantId === tenantId ? 'as one of your lines' : 'to another account'}`);
  }
  const registeredNow = Boolean(req.pin) && !isRegisteredWithCloudApi(phone);
  const current = registeredNow ? await register() : phone;
  const accessToken = decryptedAccessToken(source, access.box);
  const { line } = await em.transactional((tem) =>
    connectLine(tem, access.box, tenantId, { phoneNumberId: phone.id, wabaId: source.wabaId, displayPhoneNumber: phone.displayPhoneNumber, accessToken, status: 'active' }),
  );
  return { kind: 'line', line, phone: current, registeredNow };
}
