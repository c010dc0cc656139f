import { z } from 'zod';
import { messageText, nodeSchema, variableName } from './common';

export const validationKinds = ['text', 'number', 'email', 'phone', 'date', 'regex'] as const;

export const question = nodeSchema(
  'question',
  z
    .object({
      text: messageText,
      variable: variableName,
      validation: z.enum(validationKinds).default('text'),
      pattern: z.string().max(500).optional(),
      invalidText: z.string().max(1024).default('Sorry, that answer is not valid. Please try again.'),
      maxRetries: z.number().int().min(0).max(10).default(2),
    })
    .refine((d) => d.validation !== 'regex' || (d.pattern !== undefined && isValidRegex(d.pattern)), {
      message: 'a regex validation needs a valid pattern',
      path: ['pattern'],
    }),
);

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export const conditionOperators = ['equals', 'not_equals', 'contains', 'greater_than', 'less_than', 'is_set', 'is_not_set', 'matches'] as const;

export const condition = nodeSchema(
  'condition',
  z.object({
    combinator: z.enum(['and', 'or']).default('and'),
    rules: z
      .array(z.object({ variable: variableName, operator: z.enum(conditionOperators), value: z.string().max(500).default('') }))
      .min(1, 'give at least one rule'),
  }),
);

export const setVariable = nodeSchema('set_variable', z.object({ variable: variableName, value: z.string().max(4096) }));

export const wait = nodeSchema(
  'wait',
  z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('duration'), seconds: z.number().int().min(1).max(90 * 24 * 3600) }),
    z.object({ mode: z.literal('reply'), timeoutSeconds: z.number().int().min(1).max(90 * 24 * 3600), variable: variableName.optional() }),
  ]),
);

export const httpRequest = nodeSchema(
  'http_request',
  z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    url: z.string().min(1).max(2048),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().max(65536).optional(),
    timeoutSeconds: z.number().int().min(1).max(60).default(10),
    /** Flow variable → dotted path into the JSON response (e.g. `data.order.status`). */
    responseMapping: z.record(variableName, z.string().min(1).max(200)).default({}),
  }),
);

export const handoff = nodeSchema('handoff', z.object({ message: z.string().max(1024).optional() }));
export const gotoFlow = nodeSchema('goto_flow', z.object({ flowId: z.string().uuid() }));
export const end = nodeSchema('end', z.object({}).default({}));
