import { z } from 'zod';
import { maxVariants, templateBodyMaxChars } from '../../core/ai/template-variants';
import { generateVariants } from '../../core/ai/variant-generation';
import type { ApiDeps } from '../deps';
import type { Principal } from '../middleware/auth';
import { rateLimit } from '../middleware/rate-limit';
import { route } from '../route';

/** POST /api/templates/ai-variants: A/B variants of a template's body text, within WhatsApp's template rules (core/ai/template-variants.ts). */

const variantsBody = z
  .object({
    templateId: z.string().uuid({ message: 'must be a UUID' }).optional().meta({ description: "One of your templates: its BODY text is varied" }),
    text: z
      .string()
      .min(1, 'must not be empty')
      .max(templateBodyMaxChars, `must be at most ${templateBodyMaxChars} characters (a template body's limit)`)
      .optional()
      .meta({ description: 'Or the body text itself, placeholders as {{1}}' }),
    count: z.number().int().min(1, 'must be at least 1').max(maxVariants, `must be at most ${maxVariants}`).default(3),
    tone: z.string().trim().min(1).max(60).optional().meta({ description: 'e.g. friendly, formal, urgent; default: the original’s' }),
    language: z.string().trim().min(2).max(35).optional().meta({ description: "e.g. en, he, Spanish; default: the template's language, else the text's own" }),
  })
  .refine((b) => (b.templateId === undefined) !== (b.text === undefined), { message: 'give either templateId or text', path: ['templateId'] });

const variantsResponse = z.object({
  source: z.object({
    templateId: z.string().uuid().nullable(),
    templateName: z.string().nullable(),
    language: z.string().nullable(),
    text: z.string(),
    placeholders: z.array(z.string()).meta({ description: 'Each variant has exactly these, as often as the original' }),
  }),
  variants: z.array(
    z.object({
      text: z.string(),
      length: z.number().int(),
      components: z.array(z.unknown()).optional().meta({ description: "For a template: its components with this body, ready for POST /api/templates under a new name" }),
    }),
  ),
  requested: z.number().int(),
  dropped: z.number().int().meta({ description: 'Variants short of `requested`: the model’s broken ones that its repair did not fix' }),
  repaired: z.boolean().meta({ description: 'Some variants came from a second request that showed the model its mistakes' }),
  provider: z.string(),
  model: z.string(),
});

export const variantRequestsPerMinute = 10;

export function templateVariantRoutes(deps: ApiDeps) {
  const { ai } = deps.config;
  return [
    route({
      method: 'post',
      path: '/api/templates/ai-variants',
      tag: 'Templates',
      summary: "AI variants of a template's text for A/B tests",
      description:
        '`{templateId | text, count (1–10, default 3), tone?, language?}`. Every variant keeps the placeholders ({{1}}…) exactly, ' +
        `has at most ${templateBodyMaxChars} characters, no placeholder at its start, end or alone on a line, and no long runs of empty lines. ` +
        'Broken variants are sent back to the model once with what is wrong, and dropped if still broken. The tokens count as generation usage. ' +
        `At most ${variantRequestsPerMinute} requests a minute per user.`,
      auth: 'user',
      body: variantsBody,
      before: [
        rateLimit({
          orm: deps.orm,
          name: 'template-variants',
          max: variantRequestsPerMinute,
          windowSec: 60,
          keyOf: (ctx) => (ctx.state.principal as Principal).userId,
          message: `Too many variant requests: at most ${variantRequestsPerMinute} a minute; try again in a minute`,
        }),
      ],
      responses: {
        200: { description: 'The variants', schema: variantsResponse },
        404: { description: 'No such template in your account' },
        429: { description: `More than ${variantRequestsPerMinute} requests in a minute, or the account's monthly AI budget is used up` },
        502: { description: 'The AI provider failed, or the model wrote no valid variant' },
        503: { description: 'The AI provider or the workflow service did not answer in time' },
      },
      async handler(ctx, { body, principal }) {
        return generateVariants({ temporal: deps.temporal, fallback: ai.fallback, timeoutSec: ai.generationTimeoutSec }, ctx.state.em, {
          tenantId: principal!.tenantId,
          ...body,
        });
      },
    }),
  ];
}
