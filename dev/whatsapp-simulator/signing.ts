import { createHmac } from 'node:crypto';

/** The signature headers Meta puts on every webhook POST: HMAC of the exact bytes sent, keyed by the app secret. */
export function signatureHeaders(rawBody: string | Buffer, appSecret: string): Record<string, string> {
  return {
    'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`,
    'x-hub-signature': `sha1=${createHmac('sha1', appSecret).update(rawBody).digest('hex')}`,
  };
}
