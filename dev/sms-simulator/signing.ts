import { createHmac } from 'node:crypto';

/**
 * The X-Twilio-Signature Twilio puts on the requests it makes, computed here on its own (not with FlowBot's
 * verifier) so that a mistake in one does not hide the same mistake in the other.
 */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  const hmac = createHmac('sha1', authToken).update(url);
  for (const [key, value] of Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hmac.update(key).update(value);
  return hmac.digest('base64');
}
