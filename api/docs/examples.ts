/**
 * The core integration calls shown on /docs, as data: one request each, from which `snippets.ts` writes the
 * cURL, Node.js, Python and PHP versions. They follow the seed's calls (paths, bodies, headers) and carry
 * placeholders only, never a real key, token or password. `{BASE_URL}` becomes the server's origin on the page.
 */

/** How a call proves who it is; each language says it in its own way. */
export type ExampleAuth =
  /** No credentials. */
  | 'none'
  /** No credentials, and the answer's session cookie is kept for the `cookie` calls. */
  | 'keep-cookie'
  /** The session cookie kept by the login call. */
  | 'cookie'
  /** `Authorization: Bearer API_ACCESS_TOKEN`, the JWT from POST /api/auth/api-token. */
  | 'bearer';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface MultipartBody {
  fields: Record<string, string>;
  /** A file part shown as optional (commented out, or a second cURL command). */
  optionalFile?: { name: string; path: string; contentType: string; purpose: string };
}

export interface ExampleCall {
  id: string;
  title: string;
  summary: string;
  method: 'post';
  /** The OpenAPI path template, used to link the example to its operation in the reference. */
  path: string;
  /** The path as called in the snippet, with placeholders for its parameters. */
  url: string;
  auth: ExampleAuth;
  json?: { [key: string]: JsonValue };
  multipart?: MultipartBody;
  note?: string;
}

/** Every placeholder the examples use, explained once on the page. */
export const placeholders: Record<string, string> = {
  YOUR_USERNAME: 'your FlowBot username (or e-mail)',
  YOUR_PASSWORD: 'your FlowBot password',
  YOUR_CLIENT_ID: 'the client id shown in Settings → API Access',
  YOUR_API_KEY: 'the API key issued there (shown once when you rotate it)',
  API_ACCESS_TOKEN: 'the `accessToken` answered by POST /api/auth/api-token',
  SESSION_COOKIE: 'the value of the `wdf_token` cookie set by the login call (cURL and PHP keep it in `cookies.txt`)',
  FLOW_ID: 'the id of an active flow',
  CONV_ID: 'the id of a conversation',
};

export const coreExamples: ExampleCall[] = [
  {
    id: 'login',
    title: 'Login',
    summary: 'Authenticate and keep the session cookie for the calls marked Cookie.',
    method: 'post',
    path: '/api/auth/login',
    url: '/api/auth/login',
    auth: 'keep-cookie',
    json: { username: 'YOUR_USERNAME', password: 'YOUR_PASSWORD' },
  },
  {
    id: 'api-token',
    title: 'API JWT (Client ID + API Key)',
    summary: 'Server-to-server authentication: exchange your client id and API key for a short-lived Bearer JWT (`accessToken`).',
    method: 'post',
    path: '/api/auth/api-token',
    url: '/api/auth/api-token',
    auth: 'none',
    json: { clientId: 'YOUR_CLIENT_ID', apiKey: 'YOUR_API_KEY', ttlSec: 3600 },
    note: '`ttlSec` defaults to 3600 and is at most 86400. API use works once an administrator has approved it.',
  },
  {
    id: 'outbound',
    title: 'Trigger Outbound Flow',
    summary: 'Start a proactive WhatsApp flow from an external system (Bearer token).',
    method: 'post',
    path: '/api/webhook/outbound',
    url: '/api/webhook/outbound',
    auth: 'bearer',
    json: {
      phone: '+972501234567',
      flowId: 'FLOW_ID',
      data: { customerName: 'John Doe', templateParams: ['123456'], code: '123456' },
    },
    note:
      '`data` becomes flow variables ({{customerName}}). Add `templateGroupId` (or `templateName` / `templateId`) ' +
      'to open with an approved template when the 24-hour window is closed; the reply continues the same flow.',
  },
  {
    id: 'lead',
    title: 'Send Lead to Flow',
    summary: 'Push a lead from a CRM or web form to a specific flow.',
    method: 'post',
    path: '/api/webhook/flow/{flowId}/lead',
    url: '/api/webhook/flow/FLOW_ID/lead',
    auth: 'bearer',
    json: { phone: '+972501234567', name: 'John Doe', email: 'john.doe@example.com' },
    note: 'Fields are mapped to flow variables by the flow\u2019s API Lead Trigger node.',
  },
  {
    id: 'reply',
    title: 'Reply in a Conversation',
    summary: 'Send a WhatsApp message to the customer of a conversation (text, media, or a template after 24 hours).',
    method: 'post',
    path: '/api/conversations/{id}/reply',
    url: '/api/conversations/CONV_ID/reply',
    auth: 'cookie',
    json: { messageType: 'text', text: 'Hello! How can I help?' },
    note:
      'Images, video and documents: `messageType` `image` (`video`, `document`) with `mediaUrl` and `caption`. Outside the ' +
      '24-hour window send a template: `messageType` `template` with `templateName`, `templateLanguage` and `templateParams`.',
  },
  {
    id: 'generate',
    title: 'Generate Flow with AI',
    summary: 'Generate a draft flow from a text prompt, and optionally a PDF or image (multipart/form-data).',
    method: 'post',
    path: '/api/flows/generate',
    url: '/api/flows/generate',
    auth: 'cookie',
    multipart: {
      fields: { prompt: 'Create a customer support flow for a taxi company' },
      optionalFile: { name: 'file', path: '/path/to/document.pdf', contentType: 'application/pdf', purpose: 'a PDF or image to build the flow from' },
    },
  },
];
