import { randomBytes } from 'node:crypto';

/** Titles, details and HTTP statuses as the Cloud API answers them, for the codes the simulator produces. */
const known: Record<number, { title: string; httpStatus: number; details?: string }> = {
  1: { title: 'An unknown error occurred', httpStatus: 400 },
  2: { title: 'Service temporarily unavailable', httpStatus: 503 },
  4: { title: 'Application request limit reached', httpStatus: 429 },
  10: { title: 'Application does not have permission for this action', httpStatus: 403 },
  100: { title: 'Invalid parameter', httpStatus: 400 },
  190: { title: 'Invalid OAuth access token - Cannot parse access token', httpStatus: 401 },
  200: { title: 'Permissions error', httpStatus: 403 },
  368: { title: 'Temporarily blocked for policies violations', httpStatus: 400 },
  2500: { title: 'Unknown path components', httpStatus: 400 },
  80007: { title: 'Rate limit issues', httpStatus: 400 },
  130429: {
    title: 'Rate limit hit',
    httpStatus: 400,
    details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
  },
  131000: { title: 'Something went wrong', httpStatus: 500 },
  131016: { title: 'Service unavailable', httpStatus: 503 },
  131026: { title: 'Message undeliverable', httpStatus: 400, details: 'Unable to deliver message.' },
  131031: { title: 'Business Account locked', httpStatus: 400 },
  131047: {
    title: 'Re-engagement message',
    httpStatus: 400,
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131049: { title: 'This message was not delivered to maintain healthy ecosystem engagement.', httpStatus: 400 },
  131050: { title: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.', httpStatus: 400 },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    httpStatus: 400,
    details: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
  131057: { title: 'Account in maintenance mode', httpStatus: 503 },
  132000: { title: 'Number of parameters does not match the expected number of params', httpStatus: 400 },
  132001: { title: 'Template name does not exist in the translation', httpStatus: 400 },
  132012: { title: 'Parameter format does not match format in the created template', httpStatus: 400 },
  133005: { title: 'Two step verification PIN Mismatch', httpStatus: 400 },
};

export const titleOf = (code: number): string => known[code]?.title ?? 'Something went wrong';
export const httpStatusOf = (code: number): number => known[code]?.httpStatus ?? 400;

/** A Graph error answer: `{error: {message: "(#code) title", type, code, error_data, fbtrace_id}}`. */
export function graphError(code: number, details?: string, httpStatus?: number): { status: number; body: unknown } {
  const explanation = details ?? known[code]?.details;
  return {
    status: httpStatus ?? httpStatusOf(code),
    body: {
      error: {
        message: code === 190 ? titleOf(code) : `(#${code}) ${titleOf(code)}`,
        type: 'OAuthException',
        code,
        ...(explanation ? { error_data: { messaging_product: 'whatsapp', details: explanation } } : {}),
        fbtrace_id: randomBytes(12).toString('base64url'),
      },
    },
  };
}

/** The `errors[]` entry of a failed status webhook. */
export function statusError(code: number): Record<string, unknown> {
  const title = titleOf(code);
  return {
    code,
    title,
    message: title,
    error_data: { details: known[code]?.details ?? title },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  };
}
