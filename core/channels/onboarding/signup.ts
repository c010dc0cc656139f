import type { EntityManager } from '@mikro-orm/postgresql';
import { isRegisteredWithCloudApi, listAllPhoneNumbers, type WabaPhoneNumber } from '../../../activities/channels/whatsapp/onboarding';
import { WhatsAppLine } from '../../db/entities';
import { AppError } from '../../errors';
import { ChannelSendError } from '../errors';
import { appCredentials, atMeta, reasonOf, type OnboardingAccess } from './meta';
import { connectLine } from './retired-lines';

/**
 * The server side of Meta's Embedded Signup. The customer finished the flow in the dashboard, whose page got a
 * code (from FB.login) and the session info (the `WA_EMBEDDED_SIGNUP` message: `waba_id`, `phone_number_id`).
 * Here: the code becomes a business token; the WABA comes from the session info, else from what the token was
 * granted (debug_token); the phone number named is connected (all of the WABA's when none is named), registered
 * with the Cloud API when a PIN is given, and the app is subscribed to the WABA's webhooks. Lines are written
 * last, once Meta accepted everything, so a failure leaves nothing half-connected here.
 */

export interface SignupRequest {
  code: string;
  wabaId?: string;
  phoneNumberId?: string;
  /** The two-step verification PIN to register the number(s) with; without it, unregistered numbers stay PENDING. */
  pin?: string;
}

export type Registration = 'registered_now' | 'already_registered' | 'pending';

export interface ConnectedLine {
  line: WhatsAppLine;
  created: boolean;
  phone: WabaPhoneNumber;
  registration: Registration;
}

export interface SignupResult {
  wabaIds: string[];
  lines: ConnectedLine[];
}

interface Chosen {
  wabaId: string;
  phone: WabaPhoneNumber;
}

export async function completeEmbeddedSignup(em: EntityManager, access: OnboardingAccess, tenantId: string, req: SignupRequest): Promise<SignupResult> {
  const app = appCredentials(access);
  const { accessToken } = await exchange(access, { ...app, code: req.code });

  const wabaIds = req.wabaId ? [req.wabaId] : await grantedWabas(access, { ...app, inputToken: accessToken });
  const chosen: Chosen[] = [];
  for (const wabaId of wabaIds) {
    const phones = await atMeta(`list the phone numbers of WhatsApp Business Account ${wabaId}`, () => listAllPhoneNumbers(access.client, { wabaId, accessToken }));
    chosen.push(...phones.filter((p) => !req.phoneNumberId || p.id === req.phoneNumberId).map((phone) => ({ wabaId, phone })));
  }
  if (req.phoneNumberId && !chosen.length) {
    throw new AppError('invalid', `Phone number id ${req.phoneNumberId} is not a number of WhatsApp Business Account ${wabaIds.join(' or ')}`);
  }
  if (!chosen.length) {
    throw new AppError('invalid', `WhatsApp Business Account ${wabaIds.join(' and ')} has no phone number yet: add one in Meta's WhatsApp Manager, then connect it as an extra line`);
  }
  const connecting = await withoutNumbersOfOthers(em, tenantId, chosen, req.phoneNumberId !== undefined);

  const registration = new Map<string, Registration>();
  for (const { phone } of connecting) {
    if (isRegisteredWithCloudApi(phone)) registration.set(phone.id, 'already_registered');
    else if (!req.pin) registration.set(phone.id, 'pending');
    else {
      await atMeta(`register phone number ${phone.displayPhoneNumber || phone.id} with the Cloud API`, () =>
        access.client.registerPhoneNumber({ phoneNumberId: phone.id, accessToken, pin: req.pin! }),
      );
      registration.set(phone.id, 'registered_now');
    }
  }
  const connectedWabas = [...new Set(connecting.map((c) => c.wabaId))];
  for (const wabaId of connectedWabas) {
    await atMeta(`subscribe FlowBot to the webhooks of WhatsApp Business Account ${wabaId}`, () => access.client.subscribeApp({ wabaId, accessToken }));
  }

  const lines = await em.transactional(async (tem) => {
    const connected: ConnectedLine[] = [];
    for (const { wabaId, phone } of connecting) {
      const { line, created } = await connectLine(tem, access.box, tenantId, {
        phoneNumberId: phone.id,
        wabaId,
        displayPhoneNumber: phone.displayPhoneNumber,
        accessToken,
        status: 'active',
      });
      connected.push({ line, created, phone, registration: registration.get(phone.id)! });
    }
    return connected;
  });
  return { wabaIds: connectedWabas, lines };
}

/** The code is single-use and short-lived: a refused code is the caller's to fix by running the flow again. */
async function exchange(access: OnboardingAccess, req: { appId: string; appSecret: string; code: string }): Promise<{ accessToken: string }> {
  try {
    return await access.client.exchangeCode(req);
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    if (err.code === 100) {
      throw new AppError('invalid', `Meta refused the Embedded Signup code: ${reasonOf(err)}. A code can be used once, within seconds of the flow: run Embedded Signup again`);
    }
    if (err.httpStatus !== undefined && err.httpStatus < 500) {
      throw new AppError('upstream', `Meta refused FlowBot's app credentials (META_APP_ID / META_APP_SECRET) while exchanging the signup code: ${reasonOf(err)}`);
    }
    throw new AppError('upstream', `WhatsApp could not exchange the signup code: ${reasonOf(err)}`);
  }
}

async function grantedWabas(access: OnboardingAccess, req: { appId: string; appSecret: string; inputToken: string }): Promise<string[]> {
  const grants = await atMeta('look up what the signup token was granted', () => access.client.tokenGrants(req));
  if (!grants.isValid) throw new AppError('upstream', `Meta says the token it just issued is not valid${grants.error ? `: ${grants.error}` : ''}`);
  if (!grants.wabaIds.length) {
    throw new AppError('invalid', 'The signup granted no WhatsApp Business Account: run Embedded Signup again and share a WhatsApp Business Account with FlowBot');
  }
  return grants.wabaIds;
}

/**
 * A number another account has connected stays theirs, checked before anything is changed at Meta: naming it is
 * a conflict; when the whole WABA is being connected, it is left out.
 */
async function withoutNumbersOfOthers(em: EntityManager, tenantId: string, chosen: Chosen[], named: boolean): Promise<Chosen[]> {
  const taken = new Set(
    (await em.find(WhatsAppLine, { phoneNumberId: { $in: chosen.map((c) => c.phone.id) }, tenantId: { $ne: tenantId } }, { fields: ['phoneNumberId'] })).map((l) => l.phoneNumberId),
  );
  const free = chosen.filter((c) => !taken.has(c.phone.id));
  if (taken.size && (named || !free.length)) {
    throw new AppError('conflict', `Phone number id ${[...taken].join(', ')} is already connected to another account`);
  }
  return free;
}
