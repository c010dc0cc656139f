import { timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from 'koa';
import { z } from 'zod';
import { secretBoxFor, type SecretBox } from '../../core/crypto/secret-box';
import { User } from '../../core/db/entities';
import { AppError, notFound } from '../../core/errors';
import type { NodeOf } from '../../core/flow/catalogue';
import { newId } from '../../core/ids';
import { signalJourney } from '../../core/journey/signal';
import type { PublishedFlow } from '../../core/flows/repository';
import { hideSecrets, openedSecrets, openSecret } from '../../core/flows/secrets';
import type { FlowTrigger, JourneyKey, LoadedFlow } from '../../core/journey/types';
import { resolveTemplateReference } from '../../core/templates/resolve';
import { passesLegacyAuth } from '../../core/triggers/legacy-auth';
import { contactOf, latestPublished, lineForTrigger, loadTriggerFlow, toVariables, triggerableFlow } from '../../core/triggers/prepare';
import type { ApiDeps } from '../deps';
import { resolvePrincipal, type Principal } from '../middleware/auth';
import { rateLimit } from '../middleware/rate-limit';
import { route } from '../route';

const phone = z.string().trim().min(7, 'must be a phone number in international format').max(20);
const busyPolicy = z.enum(['supersede', 'skip', 'queue']);

const outboundBody = z.object({
  phone,
  flowId: z.string().uuid({ message: 'must be the flow id (a UUID)' }),
  templateGroupId: z.string().uuid({ message: 'must be the template group id (a UUID)' }).optional(),
  templateName: z.string().min(1).max(512).optional(),
  templateId: z.string().uuid({ message: 'must be the template id (a UUID)' }).optional(),
  /** Accept at once and send through the outbound queue. */
  queue: z.boolean().optional(),
  /** What to do when the contact is already in a flow; the default replaces the running flow. */
  ifBusy: busyPolicy.optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});

const outboundResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  flowId: z.string(),
  journeyId: z.string(),
  queued: z.boolean(),
});

/** A template (group) id given in `data`, as the seed's examples do. */
function idIn(data: Record<string, unknown>, field: string): string | undefined {
  const value = data[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !z.string().uuid().safeParse(value.trim()).success) throw new AppError('invalid', `Invalid body: data.${field}: must be a UUID`);
  return value.trim();
}

const leadResponse = z.object({ success: z.literal(true), message: z.string(), variables: z.array(z.string()), journeyId: z.string() });

/**
 * The version the trigger pins goes with it: the journey starts without loading it again (one activity less).
 * Its triggers' secrets stay behind: the journey has no use for them, and they would sit in its Temporal history.
 */
const journeyFlow = (published: PublishedFlow): LoadedFlow => ({
  flowId: published.flowId,
  version: published.version,
  graph: hideSecrets(published.graph as LoadedFlow['graph']),
});

/** How long a trigger waits for Temporal: unreachable, the client would keep retrying for about 20 s. */
const START_TIMEOUT_MS = 5_000;

/** Starts (or hands to the running journey) a flow for one contact; Temporal down is a 503, nothing half-done. */
async function startJourney(deps: ApiDeps, key: JourneyKey, trigger: FlowTrigger): Promise<string> {
  try {
    const started = await deps.temporal.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
      signalJourney(deps.temporal, key, { name: 'trigger', arg: trigger }),
    );
    return started.workflowId;
  } catch (err) {
    throw new AppError('unavailable', `The journey engine is unavailable; the trigger was not accepted, retry later (${(err as Error).message.split('\n')[0]})`);
  }
}

export function triggerRoutes(deps: ApiDeps) {
  const box = secretBoxFor(deps.config);
  const perTenant = rateLimit({
    orm: deps.orm,
    name: 'outbound',
    max: 30,
    windowSec: 60,
    keyOf: (ctx) => ctx.state.principal?.tenantId ?? ctx.ip,
    message: 'Too many outbound triggers: at most 30 per minute',
  });

  return [
    route({
      method: 'post',
      path: '/api/webhook/outbound',
      tag: 'Triggers',
      summary: 'Trigger an outbound flow for a phone number',
      description:
        'Primary endpoint for external systems. `data` becomes flow variables ({{customerName}}); `data.templateParams` alone also fills ' +
        '`code`/`otpCode`; `data.phoneNumberId` picks the line; `data.sourceRef` and `data.campaignId` are recorded and searchable. ' +
        'With `templateGroupId`, `templateId` or `templateName` (also accepted in `data`), the approved template is sent first and the reply ' +
        'continues in the same journey; a group tries its approved templates in order, then on its preferred line (which is also the line ' +
        'used when neither data.phoneNumberId nor the flow names one). `POST /api/webhook/outbound-status` tells how the send went. ' +
        'Rate limit: 30 requests / min. ' +
        'Auth: the API JWT, or (legacy) the flow\'s outbound token set on its Outbound Trigger node, as `Authorization: Bearer <token>`.',
      auth: 'user',
      fallbackAuth: (ctx) => outboundTokenPrincipal(ctx, box),
      before: [perTenant],
      body: outboundBody,
      responses: {
        200: { description: 'Accepted: the journey has the trigger', schema: outboundResponse },
        400: { description: 'The flow is not active, has no Outbound Trigger node, no line is configured, or the template (group) has nothing APPROVED' },
        404: { description: 'No such flow, line, template or template group in your account' },
        429: { description: 'More than 30 triggers in a minute' },
        503: { description: "The journey engine is unavailable, or the flow's legacy token cannot be read (ENCRYPTION_KEY changed since it was saved)" },
      },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const data = body.data;
        const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
        const flow = await loadTriggerFlow(em, body.flowId, { tenantId: principal!.tenantId, phoneNumberId: str(data.phoneNumberId) });
        if (!flow) throw notFound('Flow');
        const published = await triggerableFlow(em, flow, ['trigger_outbound'], 'Outbound Trigger');
        const templateGroupId = body.templateGroupId ?? idIn(data, 'templateGroupId');
        const templateId = templateGroupId ? undefined : (body.templateId ?? idIn(data, 'templateId'));
        const reference = templateGroupId || templateId ? await resolveTemplateReference(em, flow.tenantId, { templateGroupId, templateId }) : undefined;
        // A group's preferred line is its default line, after the caller's choice and the flow's own line.
        const preferred = flow.whatsappLineId ? undefined : reference?.preferredLine?.phoneNumberId;
        const lineId = await lineForTrigger(em, flow, str(data.phoneNumberId) ?? preferred);
        const variables = toVariables(data);
        const templateParams = Array.isArray(data.templateParams) ? data.templateParams.map(String) : [];
        if (templateParams.length) {
          variables.code ??= templateParams[0];
          variables.otpCode ??= templateParams[0];
        }
        const key: JourneyKey = { tenantId: flow.tenantId, channel: 'whatsapp', lineId, contact: contactOf(body.phone) };
        const trigger: FlowTrigger = {
          triggerId: ctx.get('idempotency-key') || newId(),
          flowId: flow.id,
          version: published.version,
          flow: journeyFlow(published),
          startNodeType: 'trigger_outbound',
          variables,
          policy: body.ifBusy ?? 'supersede',
          template:
            reference || body.templateName
              ? {
                  ...(templateGroupId ? { templateGroupId } : templateId ? { templateId } : { name: body.templateName }),
                  language: str(data.templateLanguage) ?? 'en',
                  params: templateParams,
                }
              : undefined,
          sourceRef: str(data.sourceRef),
          campaignId: str(data.campaignId),
        };
        const journeyId = await startJourney(deps, key, trigger);
        return { success: true, message: `Outbound flow triggered for ${body.phone}`, flowId: flow.id, journeyId, queued: body.queue === true };
      },
    }),
    ...(['lead', 'generic'] as const).flatMap((kind) => {
      const path = kind === 'lead' ? '/api/webhook/flow/:flowId/lead' : '/api/webhook/flow/:flowId';
      const methods = kind === 'lead' ? (['post'] as const) : (['get', 'post'] as const);
      return methods.map((method) =>
        route({
          method,
          path,
          tag: 'Triggers',
          summary: kind === 'lead' ? 'Send a lead to a flow' : 'Generic flow API trigger',
          description:
            'Fields are mapped to flow variables by the trigger node\'s field mapping; unmapped fields keep their names. ' +
            'Preferred auth: API JWT (Bearer). Legacy per-flow modes, configured on the trigger node: API key, Basic, Bearer, ' +
            'HMAC (`X-Signature-256`: hex HMAC-SHA256 of the raw body) and None.',
          auth: 'public',
          params: z.object({ flowId: z.string().uuid({ message: 'must be the flow id (a UUID)' }) }),
          body: method === 'post' ? z.record(z.string(), z.unknown()) : undefined,
          query: method === 'get' ? z.record(z.string(), z.string()) : undefined,
          responses: {
            200: { description: 'The lead started the flow', schema: leadResponse },
            401: { description: 'Missing or wrong credentials for this flow' },
            404: { description: 'No such flow' },
            503: { description: "The journey engine is unavailable, or the flow's trigger secret cannot be read (ENCRYPTION_KEY changed since it was saved)" },
          },
          async handler(ctx, { params, body, query }) {
            const fields = (method === 'post' ? body : query) as Record<string, unknown>;
            return leadTrigger(ctx, deps, box, kind, params.flowId, fields);
          },
        }),
      );
    }),
  ];
}

/**
 * The legacy outbound token of the seed: `Authorization: Bearer <token>` where the token is the one set on
 * the flow's Outbound Trigger node. It stands for the flow's creator, and opens this one flow only.
 */
async function outboundTokenPrincipal(ctx: Context, box: SecretBox): Promise<Principal | undefined> {
  const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
  const flowId = (ctx.request.body as { flowId?: unknown } | undefined)?.flowId;
  if (!token || typeof flowId !== 'string' || !/^[0-9a-f-]{36}$/i.test(flowId)) return undefined;
  const em: EntityManager = ctx.state.em;
  const flow = await loadTriggerFlow(em, flowId);
  const published = flow && (await latestPublished(em, flow));
  const node = published?.graph.nodes.find((n) => n.type === 'trigger_outbound') as NodeOf<'trigger_outbound'> | undefined;
  const expected = node?.data.legacyToken;
  if (!flow || !expected || !sameSecret(token, openSecret(expected, box))) return undefined;
  const user = (flow.createdBy && (await em.findOne(User, { id: flow.createdBy, disabled: false }))) || (await em.findOne(User, { tenantId: flow.tenantId, role: 'owner', disabled: false }));
  if (!user) return undefined;
  return { userId: user.id, tenantId: flow.tenantId, role: user.role, kind: 'flow_token', user };
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

async function leadTrigger(ctx: Context, deps: ApiDeps, box: SecretBox, kind: 'lead' | 'generic', flowId: string, fields: Record<string, unknown>) {
  const em: EntityManager = ctx.state.em;
  const flow = await loadTriggerFlow(em, flowId);
  if (!flow) throw notFound('Flow');
  const nodeTypes = kind === 'lead' ? (['trigger_api_lead'] as const) : (['trigger_api', 'trigger_api_lead'] as const);
  // A valid API JWT is enough (for its own tenant's flows only); otherwise the trigger node's legacy mode decides.
  const principal = ctx.state.jwt ? await resolvePrincipal(ctx, em) : undefined;
  if (principal && principal.tenantId !== flow.tenantId) throw notFound('Flow');
  const published = await triggerableFlow(em, flow, nodeTypes, kind === 'lead' ? 'API Lead Trigger' : 'API Trigger');
  const node = published.graph.nodes.find((n) => (nodeTypes as readonly string[]).includes(n.type)) as NodeOf<'trigger_api_lead' | 'trigger_api'>;
  if (!principal) {
    const ok = passesLegacyAuth(openedSecrets(node, box).auth, { header: (name) => ctx.get(name), rawBody: ctx.state.rawBody ?? Buffer.alloc(0) });
    if (!ok) {
      throw new AppError(
        'unauthenticated',
        node.data.auth.mode === 'jwt' ? 'This flow needs an API Bearer token (POST /api/auth/api-token)' : `Missing or wrong ${node.data.auth.mode} credentials for this flow`,
      );
    }
  }
  const rawPhone = fields[node.data.phoneField];
  if (typeof rawPhone !== 'string' && typeof rawPhone !== 'number') throw new AppError('invalid', `${node.data.phoneField}: is required (the contact's phone number)`);
  const variables: Record<string, string> = {};
  for (const [field, value] of Object.entries(toVariables(fields))) variables[node.data.fieldMapping[field] ?? field] = value;
  const key: JourneyKey = { tenantId: flow.tenantId, channel: 'whatsapp', lineId: await lineForTrigger(em, flow), contact: contactOf(String(rawPhone)) };
  const journeyId = await startJourney(deps, key, {
    triggerId: ctx.get('idempotency-key') || newId(),
    flowId: flow.id,
    version: published.version,
    flow: journeyFlow(published),
    startNodeType: node.type,
    variables,
    policy: 'supersede',
    sourceRef: variables.sourceRef,
    campaignId: variables.campaignId,
  });
  return { success: true, message: 'Lead received and flow started', variables: Object.keys(variables), journeyId };
}
