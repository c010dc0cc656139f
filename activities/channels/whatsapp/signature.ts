import { createHmac, timingSafeEqual } from 'node:crypto';

const headerPattern = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks Meta's `X-Hub-Signature-256: sha256=<hex>` header: an HMAC-SHA256 of the raw request bytes with
 * the app secret. It must be computed over the bytes as received, before any JSON parsing. False when the
 * header is missing or malformed, or when there is no secret to check against.
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  const match = header ? headerPattern.exec(header.trim()) : null;
  if (!match || !appSecret) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}
