import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppCredentials, WhatsAppOnboardingClient } from '../../../activities/channels/whatsapp/onboarding';
import type { SecretBox } from '../../crypto/secret-box';
import type { WhatsAppLine } from '../../db/entities';
import { AppError } from '../../errors';
import { ChannelSendError } from '../errors';
import { decryptedAccessToken, markLineNeedsReauth } from '../lines';

/**
 * Onboarding talks to Meta from the request: the person connecting a number waits for Meta's answer, and
 * nothing is sent to anyone. Meta's refusals become API errors that say whose fault they are: a 400 for what
 * the caller gave (a used code, a WABA or number the token cannot see, a wrong PIN), a 502 for what FlowBot or
 * Meta got wrong (the app's credentials, a refused token, Meta failing).
 */

export interface OnboardingAccess {
  client: WhatsAppOnboardingClient;
  box: SecretBox;
  /** FlowBot's Meta app (META_APP_ID, META_APP_SECRET); Embedded Signup needs it, the other calls do not. */
  app?: Partial<AppCredentials>;
}

export function appCredentials(access: OnboardingAccess): AppCredentials {
  const { appId, appSecret } = access.app ?? {};
  if (!appId || !appSecret) {
    throw new AppError('unavailable', 'Embedded Signup is not configured on this FlowBot: set META_APP_ID and META_APP_SECRET to your Meta app\'s id and secret');
  }
  return { appId, appSecret };
}

export const reasonOf = (err: ChannelSendError): string =>
  `${err.message}${err.details ? `: ${err.details}` : ''}${err.code !== undefined ? ` (code ${err.code}${err.subcode !== undefined ? `, subcode ${err.subcode}` : ''})` : ''}`;

/**
 * Runs one Graph call and turns Meta's refusal into an API error. `line` is the stored line whose token the
 * call used: a token Meta refuses marks it as needing re-authentication, as a refused send would.
 */
export async function atMeta<T>(what: string, call: () => Promise<T>, opts: { em?: EntityManager; line?: WhatsAppLine } = {}): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ChannelSendError)) throw err;
    const reason = reasonOf(err);
    if (err.errorClass === 'definitive' || err.errorClass === 'window_closed') throw new AppError('invalid', `WhatsApp refused to ${what}: ${reason}`);
    if ((err.errorClass === 'credentials' || err.errorClass === 'account') && opts.line && opts.em) {
      await markLineNeedsReauth(opts.em, opts.line.id);
      throw new AppError(
        'upstream',
        `WhatsApp refused the access token of line ${opts.line.displayPhoneNumber || opts.line.phoneNumberId} while trying to ${what}: ${reason}. ` +
          'The line is marked as needing re-authentication: connect it again with Embedded Signup',
      );
    }
    throw new AppError('upstream', `WhatsApp could not ${what}: ${reason}`);
  }
}

/** Calls Meta with a stored line's token. */
export function withLineToken<T>(em: EntityManager, access: OnboardingAccess, line: WhatsAppLine, what: string, call: (accessToken: string) => Promise<T>): Promise<T> {
  return atMeta(what, () => call(decryptedAccessToken(line, access.box)), { em, line });
}
