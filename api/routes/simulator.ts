import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { WhatsAppLine } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';

/**
 * Playing the customer against the local WhatsApp Cloud API simulator (dev/whatsapp-simulator), so the flow
 * builder's test panel can run a flow from the browser through the public API alone. Available only when the
 * API's Graph URL is that simulator (what `npm start` and the tests set up) and never in production: the
 * simulator answers its control API at `/_sim/`, which Meta does not have. A customer message is posted for
 * one of the caller's own lines only, and reaches FlowBot as Meta would deliver it: a signed webhook.
 */

/** How long a "no simulator here" answer is believed before asking again (the simulator may start later). */
const NEGATIVE_CACHE_MS = 10_000;

const availability = z.object({
  available: z.boolean(),
  reason: z.string().optional().meta({ description: 'Why not, when it is not available' }),
});

const inboundBody = z
  .object({
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, "must be Meta's phone number id of one of your lines (digits only)"),
    from: z.string().trim().regex(/^\+?[1-9]\d{6,14}$/, 'must be a phone number in international format, e.g. +972501234567'),
    name: z.string().trim().min(1).max(100).optional().meta({ description: "The customer's profile name" }),
    text: z.string().trim().min(1, 'must not be empty').max(4096).optional(),
    buttonReply: z.object({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }).optional().meta({ description: 'A tap on a reply button' }),
    listReply: z.object({ id: z.string().min(1).max(200), title: z.string().min(1).max(24) }).optional().meta({ description: 'A choice from a list' }),
  })
  .refine((b) => [b.text, b.buttonReply, b.listReply].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of text, buttonReply or listReply',
    path: ['text'],
  });

export function simulatorRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const graphUrl = deps.config.whatsapp.graphUrl.replace(/\/+$/, '');
  let known: { available: boolean; reason?: string; at: number } | undefined;

  async function probe(): Promise<{ available: boolean; reason?: string }> {
    if (deps.config.env === 'production') return { available: false, reason: 'The WhatsApp simulator is never used in production' };
    if (known && (known.available || Date.now() - known.at < NEGATIVE_CACHE_MS)) return { available: known.available, ...(known.reason ? { reason: known.reason } : {}) };
    let answer: { available: boolean; reason?: string };
    try {
      const res = await fetch(`${graphUrl}/_sim/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json().catch(() => undefined)) as { ok?: unknown } | undefined;
      answer =
        res.ok && body?.ok === true
          ? { available: true }
          : { available: false, reason: `WhatsApp is reached at ${graphUrl}, which is not the simulator (npm start runs it unless WHATSAPP_GRAPH_URL is set)` };
    } catch (err) {
      answer = { available: false, reason: `The WhatsApp simulator at ${graphUrl} does not answer (${(err as Error).message})` };
    }
    known = { ...answer, at: Date.now() };
    return answer;
  }

  return [
    route({
      method: 'get',
      path: '/api/simulator',
      tag: 'Simulator',
      summary: 'Whether the WhatsApp simulator is there to play the customer',
      description: 'True when this API sends to the local WhatsApp Cloud API simulator (`npm start` without a real Graph URL); never in production.',
      auth: 'user',
      responses: { 200: { description: 'Availability', schema: availability } },
      handler: () => probe(),
    }),
    route({
      method: 'post',
      path: '/api/simulator/inbound',
      tag: 'Simulator',
      summary: 'Play the customer: a message to one of your lines, through the WhatsApp simulator',
      description:
        'The simulator posts the message to FlowBot as a signed WhatsApp webhook, as Meta would: a waiting journey resumes, or an ' +
        'inbound trigger starts one. Body: `{phoneNumberId, from, name?, text | buttonReply {id, title} | listReply {id, title}}`. ' +
        'Only when `GET /api/simulator` says it is available (409 otherwise).',
      auth: 'user',
      body: inboundBody,
      responses: {
        200: { description: 'Delivered to FlowBot', schema: z.object({ success: z.literal(true), wamid: z.string() }) },
        404: { description: 'None of your lines has this phone number id' },
        409: { description: 'The WhatsApp simulator is not in use here' },
        502: { description: 'The simulator refused the message, or FlowBot did not accept its webhook' },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const line = await em.findOne(WhatsAppLine, { tenantId: principal!.tenantId, phoneNumberId: body.phoneNumberId });
        if (!line) throw new AppError('not_found', `None of your WhatsApp lines has phone number id ${body.phoneNumberId}`);
        const state = await probe();
        if (!state.available) throw new AppError('conflict', state.reason ?? 'The WhatsApp simulator is not in use here');
        let res: Response;
        try {
          res = await fetch(`${graphUrl}/_sim/inbound`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...body, from: body.from.replace(/\D/g, '') }),
            signal: AbortSignal.timeout(30_000),
          });
        } catch (err) {
          known = undefined;
          throw new AppError('upstream', `The WhatsApp simulator did not answer (${(err as Error).message})`);
        }
        const answer = (await res.json().catch(() => ({}))) as { wamid?: string; error?: string; webhook?: { delivered?: boolean; attempts?: Array<{ status?: number; error?: string }> } };
        if (!res.ok || !answer.wamid) throw new AppError('upstream', `The WhatsApp simulator refused the message: ${answer.error ?? res.status}`);
        if (answer.webhook && answer.webhook.delivered === false) {
          const last = answer.webhook.attempts?.at(-1);
          throw new AppError('upstream', `FlowBot did not accept the simulator's webhook (${last?.status ?? last?.error ?? 'no answer'})`);
        }
        return { success: true, wamid: answer.wamid };
      },
    }),
  ];
}
