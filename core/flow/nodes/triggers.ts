import { z } from 'zod';
import { nodeSchema, variableName } from './common';

export const triggerInbound = nodeSchema(
  'trigger_inbound',
  z.object({
    match: z.enum(['any', 'exact', 'contains']).default('any'),
    keywords: z.array(z.string().min(1).max(100)).max(50).default([]),
  }),
);

export const triggerOutbound = nodeSchema(
  'trigger_outbound',
  z
    .object({
      /**
       * The legacy per-flow outbound token (`Authorization: Bearer <token>`); the API JWT is preferred. Stored
       * sealed (core/flows/secrets.ts), which makes it longer than the 200 characters a token may have.
       */
      legacyToken: z
        .string()
        .min(16, 'must be at least 16 characters')
        .refine((v) => v.length <= 200 || v.startsWith('sealed:v1:'), 'must be at most 200 characters')
        .optional(),
    })
    .default({}),
);

/** Per-flow legacy authentication of the API triggers; `jwt` (the API token) is always accepted as well. */
export const triggerAuth = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('jwt') }),
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('api_key'), header: z.string().min(1).default('X-API-Key'), key: z.string().min(8) }),
  z.object({ mode: z.literal('basic'), username: z.string().min(1), password: z.string().min(8) }),
  z.object({ mode: z.literal('bearer'), token: z.string().min(8) }),
  z.object({ mode: z.literal('hmac'), secret: z.string().min(8), header: z.string().min(1).default('X-Signature-256') }),
]);

const fieldMapping = z.record(z.string().min(1).max(100), variableName).default({});

export const triggerApiLead = nodeSchema(
  'trigger_api_lead',
  z.object({
    auth: triggerAuth.default({ mode: 'jwt' }),
    phoneField: z.string().min(1).default('phone'),
    /** Incoming field name → flow variable. Unmapped fields keep their own names. */
    fieldMapping,
  }),
);

export const triggerApi = nodeSchema(
  'trigger_api',
  z.object({ auth: triggerAuth.default({ mode: 'jwt' }), phoneField: z.string().min(1).default('phone'), fieldMapping }),
);
