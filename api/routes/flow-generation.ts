import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { generateFlowDraft } from '../../core/ai/generation';
import { toDrawflow } from '../../core/flow/drawflow';
import type { FlowGraph } from '../../core/flow/schema';
import type { ApiDeps } from '../deps';
import type { Principal } from '../middleware/auth';
import { multipartBody, type UploadedFile } from '../middleware/multipart';
import { rateLimit } from '../middleware/rate-limit';
import { route } from '../route';

/**
 * POST /api/flows/generate: a draft flow from a text prompt, and optionally a PDF or an image, by the
 * account's AI provider (see core/ai/generation.ts). The answer has the seed's shape.
 */

const generateBody = z.object({
  prompt: z.string().trim().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters').meta({ description: 'What the flow should do' }),
  file: z
    .unknown()
    .optional()
    .meta({ type: 'string', format: 'binary', description: 'Optional: a PDF (its text is read) or a PNG, JPEG, GIF or WebP image (for vision models)' }),
});

const generatedResponse = z.object({
  success: z.literal(true),
  flow: z.object({
    id: z.string().uuid(),
    name: z.string(),
    status: z.literal('draft'),
    drawflowData: z.object({ drawflow: z.object({ Home: z.object({ data: z.record(z.string(), z.unknown()) }) }) }).meta({ description: 'The flow laid out for the Drawflow editor' }),
  }),
  nodeCount: z.number().int(),
  message: z.string().meta({ description: '"Flow generated with N nodes"' }),
});

export const generationsPerMinute = 10;

export function flowGenerationRoutes(deps: ApiDeps) {
  const { ai } = deps.config;
  return [
    route({
      method: 'post',
      path: '/api/flows/generate',
      tag: 'Flows',
      summary: 'Generate a draft flow with AI from a prompt, and optionally a PDF or an image',
      description:
        `multipart/form-data with \`prompt\` and an optional \`file\` (at most ${ai.uploadMaxBytes} bytes). The model answers in the flow schema; ` +
        'an invalid answer is sent back once with its errors to be repaired. The flow is saved as a draft, laid out for the editor. ' +
        `At most ${generationsPerMinute} requests a minute per user.`,
      auth: 'user',
      body: generateBody,
      bodyContentType: 'multipart/form-data',
      before: [
        rateLimit({
          orm: deps.orm,
          name: 'flow-generate',
          max: generationsPerMinute,
          windowSec: 60,
          keyOf: (ctx) => (ctx.state.principal as Principal).userId,
          message: `Too many flow generations: at most ${generationsPerMinute} a minute; try again in a minute`,
        }),
        multipartBody({ fileFields: ['file'], maxFileBytes: ai.uploadMaxBytes }),
      ],
      responses: {
        200: { description: 'The draft flow', schema: generatedResponse },
        413: { description: 'The file is too large' },
        415: { description: 'The file is neither a PDF nor a PNG, JPEG, GIF or WebP image' },
        429: { description: `More than ${generationsPerMinute} generations in a minute, or the account's monthly AI budget is used up` },
        502: { description: 'The AI provider failed, or the model kept answering invalid flows; nothing was saved' },
        503: { description: 'The AI provider or the workflow service did not answer in time; nothing was saved' },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const file = (ctx.state.files as UploadedFile[] | undefined)?.[0];
        const { flow, nodeCount } = await generateFlowDraft(
          { temporal: deps.temporal, fallback: ai.fallback, timeoutSec: ai.generationTimeoutSec },
          em,
          { tenantId: principal!.tenantId, userId: principal!.userId, prompt: body.prompt, file: file && { filename: file.filename, data: file.data } },
        );
        return {
          success: true as const,
          flow: { id: flow.id, name: flow.name, status: 'draft' as const, drawflowData: toDrawflow(flow.draft as FlowGraph) },
          nodeCount,
          message: `Flow generated with ${nodeCount} nodes`,
        };
      },
    }),
  ];
}
