import { z } from 'zod';
import { rotateApiKey } from '../../core/auth/api-credentials';
import { ApiCredential } from '../../core/db/entities';
import type { ApiDeps } from '../deps';
import { route } from '../route';

const accessState = z.object({
  clientId: z.string().nullable(),
  keyPrefix: z.string().nullable(),
  rotatedAt: z.string().nullable(),
  apiAccessApproved: z.boolean(),
});

export function apiAccessRoutes(_deps: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/api/settings/api-access',
      tag: 'Settings',
      summary: 'API access state: client id, key prefix, approval',
      auth: 'session',
      responses: { 200: { description: 'The credential set, without the secret', schema: accessState } },
      async handler(ctx, { principal }) {
        const credential = await ctx.state.em.findOne(ApiCredential, { userId: principal!.userId });
        return {
          clientId: credential?.clientId ?? null,
          keyPrefix: credential?.keyPrefix ?? null,
          rotatedAt: credential?.rotatedAt.toISOString() ?? null,
          apiAccessApproved: principal!.user.apiAccessApproved,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/settings/api-access/rotate',
      tag: 'Settings',
      summary: 'Issue a new API key (shown once); the old one stops working at once',
      auth: 'session',
      responses: {
        200: {
          description: 'The new key. Store it now: it is never shown again.',
          schema: z.object({
            success: z.literal(true),
            clientId: z.string(),
            apiKey: z.string(),
            rotatedAt: z.string(),
            apiAccessApproved: z.boolean(),
            message: z.string(),
          }),
        },
      },
      async handler(ctx, { principal }) {
        const rotated = await rotateApiKey(ctx.state.em, principal!.user);
        return {
          success: true,
          clientId: rotated.clientId,
          apiKey: rotated.apiKey,
          rotatedAt: rotated.rotatedAt.toISOString(),
          apiAccessApproved: principal!.user.apiAccessApproved,
          message: principal!.user.apiAccessApproved
            ? 'Store this key now: it is shown only once.'
            : 'Store this key now: it is shown only once. API use stays blocked until an administrator approves it.',
        };
      },
    }),
  ];
}
