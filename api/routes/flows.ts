import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ZodError, z } from 'zod';
import { findTenantLine } from '../../core/channels/lines';
import { secretBoxFor, type SecretBox } from '../../core/crypto/secret-box';
import { Flow, FlowVersion, flowStatuses } from '../../core/db/entities';
import { AppError, notFound } from '../../core/errors';
import { flowNode } from '../../core/flow/catalogue';
import { drawflowDocument, fromDrawflow, toDrawflow } from '../../core/flow/drawflow';
import { flowEdge, flowGraph, type FlowGraph } from '../../core/flow/schema';
import { issueMessages, upgradeFlowGraph } from '../../core/flow/upgrade';
import { fixFlowShapes } from '../../core/flows/fix-shay';
import { HIDDEN_SECRET, hideSecrets, storableSecrets } from '../../core/flows/secrets';
import { assertStatusAllowed, createFlow, deleteFlow, findFlowForTenant, listVersions, publishDraft, type VersionSummary } from '../../core/flows/repository';
import type { Principal } from '../middleware/auth';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { successSchema } from '../schemas';

/**
 * Flows: the editable draft, its published (immutable) versions, and the admin shape migration. Every route
 * is tenant scoped: a flow of another tenant is answered 404, as if absent. The operator (an admin with a
 * session) may reach every tenant's flows, as with users; an admin's API token stays in its own tenant.
 *
 * The graph is accepted as our `graph` or as the seed editor's `drawflowData` and stored as our graph;
 * reads return both, so the Drawflow editor loads exactly what it saved.
 */

const graphOut = z.object({ nodes: z.array(flowNode), edges: z.array(flowEdge) }).meta({ description: 'The flow graph: typed nodes and the edges between their exits' });
const drawflowOut = z
  .object({ drawflow: z.object({ Home: z.object({ data: z.record(z.string(), z.unknown()) }) }) })
  .meta({ description: "The same graph in the Drawflow editor's format" });

const flowSummary = z.object({
  id: z.string().uuid(),
  tenantId: z.string().uuid(),
  name: z.string(),
  description: z.string().nullable(),
  status: z.enum(flowStatuses),
  latestVersion: z.number().int().nullable(),
  whatsappLineId: z.string().uuid().nullable(),
  createdBy: z.string().uuid().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const flowDetail = flowSummary.extend({ graph: graphOut, drawflowData: drawflowOut.nullable() });

const versionSummary = z.object({
  version: z.number().int(),
  publishedAt: z.string(),
  publishedBy: z.string().uuid().nullable(),
  shapeUpgradedAt: z.string().nullable(),
  graph: graphOut.optional(),
});

const graphFields = {
  graph: flowGraph.optional().meta({ description: 'The flow graph (give this or drawflowData)' }),
  drawflowData: drawflowDocument.optional().meta({ description: "A Drawflow editor document, as the seed's editor saves it" }),
};
const oneGraph = (v: { graph?: unknown; drawflowData?: unknown }) => v.graph === undefined || v.drawflowData === undefined;
const oneGraphMessage = { message: 'give graph or drawflowData, not both' };

const name = z.string().trim().min(1, 'must not be empty').max(200);
const description = z.string().trim().max(2000).nullable();

const createBody = z
  .object({ name, description: description.optional(), status: z.enum(flowStatuses).default('draft'), ...graphFields })
  .refine(oneGraph, oneGraphMessage);

/** The WhatsApp line this flow sends from; null: the tenant's primary line. */
const whatsappLineId = z.string().uuid({ message: 'must be the id of one of your WhatsApp lines' }).nullable();

const updateBody = z
  .object({ name, description, status: z.enum(flowStatuses), whatsappLineId, ...graphFields })
  .partial()
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'give at least one field to change' })
  .refine(oneGraph, oneGraphMessage);

const versionParams = idParams.extend({ version: z.coerce.number().int().min(1, 'must be 1 or more') });

/** The operator of the installation: an admin signed in with a session. */
const isOperator = (p: Principal): boolean => p.role === 'admin' && p.kind === 'session';

async function findFlowInScope(em: EntityManager, principal: Principal, id: string): Promise<Flow> {
  if (!isOperator(principal)) return findFlowForTenant(em, principal.tenantId, id);
  const flow = await em.findOne(Flow, { id });
  if (!flow) throw notFound('Flow');
  return flow;
}

/** The graph a request carries, as our graph; a Drawflow problem is a 400 naming the node. */
function graphFromBody(body: { graph?: FlowGraph; drawflowData?: unknown }): FlowGraph | undefined {
  if (body.graph !== undefined) return body.graph;
  if (body.drawflowData === undefined) return undefined;
  try {
    return fromDrawflow(body.drawflowData);
  } catch (err) {
    if (err instanceof ZodError) throw new AppError('invalid', `Invalid drawflowData: ${issueMessages(err).slice(0, 5).join('; ')}`);
    throw err;
  }
}

const secretsNote =
  "Trigger secrets (the outbound trigger's legacyToken; an API trigger's auth key, password, token or secret) are write-only: " +
  `a flow read back shows \`${HIDDEN_SECRET}\` in their place, and a graph saved with that value keeps the node's stored secret (a 400 when there is none to keep, e.g. a new flow from an export). ` +
  'They are stored encrypted.';

const withSecrets = (graph: FlowGraph | undefined, stored: unknown, box: SecretBox): FlowGraph | undefined =>
  graph === undefined ? undefined : storableSecrets(graph, stored, box);

function summary(flow: Flow): z.infer<typeof flowSummary> {
  return {
    id: flow.id,
    tenantId: flow.tenantId,
    name: flow.name,
    description: flow.description ?? null,
    status: flow.status,
    latestVersion: flow.latestVersion ?? null,
    whatsappLineId: flow.whatsappLineId ?? null,
    createdBy: flow.createdBy ?? null,
    createdAt: flow.createdAt.toISOString(),
    updatedAt: flow.updatedAt.toISOString(),
  };
}

/**
 * Both forms of a stored graph, its trigger secrets hidden (core/flows/secrets.ts). One stored before a shape
 * change is shown upgraded (fix-shay stores that).
 */
function bothForms(stored: unknown): { graph: FlowGraph; drawflowData: ReturnType<typeof toDrawflow> | null } {
  const result = upgradeFlowGraph(stored);
  if (!result.ok) return { graph: hideSecrets(stored as FlowGraph), drawflowData: null };
  const graph = hideSecrets(result.graph);
  return { graph, drawflowData: toDrawflow(graph) };
}

const detail = (flow: Flow) => ({ ...summary(flow), ...bothForms(flow.draft) });

function versionOut(v: VersionSummary) {
  return {
    version: v.version,
    publishedAt: v.publishedAt.toISOString(),
    publishedBy: v.publishedBy ?? null,
    shapeUpgradedAt: v.shapeUpgradedAt?.toISOString() ?? null,
    ...(v.graph !== undefined ? { graph: bothForms(v.graph).graph } : {}),
  };
}

export function flowRoutes(deps: ApiDeps) {
  const tag = 'Flows';
  const box = secretBoxFor(deps.config);
  return [
    route({
      method: 'get',
      path: '/api/flows',
      tag,
      summary: 'List flows',
      description:
        "The flows of the caller's tenant, newest change first. An administrator (signed in) may filter by tenantId or userId across tenants; userId filters by the flow's creator.",
      auth: 'user',
      query: z.object({
        status: z.enum(flowStatuses).optional(),
        userId: z.string().uuid().optional(),
        tenantId: z.string().uuid().optional(),
      }),
      responses: { 200: { description: 'The flows', schema: z.array(flowSummary) } },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const p = principal!;
        const where: FilterQuery<Flow> = {};
        if (query.tenantId !== undefined && query.tenantId !== p.tenantId && !isOperator(p)) {
          throw new AppError('forbidden', 'Only an administrator can list the flows of another tenant');
        }
        if (query.tenantId) where.tenantId = query.tenantId;
        else if (!(isOperator(p) && query.userId)) where.tenantId = p.tenantId;
        if (query.userId) where.createdBy = query.userId;
        if (query.status) where.status = query.status;
        const flows = await em.find(Flow, where, { orderBy: { updatedAt: 'desc', id: 'asc' }, exclude: ['draft'] });
        return flows.map((f) => summary(f as Flow));
      },
    }),
    route({
      method: 'post',
      path: '/api/flows',
      tag,
      summary: 'Create a flow',
      description:
        `Send the graph as \`graph\` (our format) or \`drawflowData\` (the Drawflow editor document). A graph with an unknown node type or an edge to a missing node is a 400 naming the node. ${secretsNote}`,
      auth: 'user',
      body: createBody,
      responses: { 201: { description: 'Created', schema: flowDetail } },
      async handler(ctx, { body, principal }) {
        const em: EntityManager = ctx.state.em;
        const flow = await createFlow(em, {
          tenantId: principal!.tenantId,
          createdBy: principal!.userId,
          name: body.name,
          description: body.description ?? null,
          status: body.status,
          graph: withSecrets(graphFromBody(body), undefined, box),
        });
        ctx.status = 201;
        return detail(flow);
      },
    }),
    route({
      method: 'post',
      path: '/api/flows/fix-shay',
      tag,
      summary: 'Validate every stored flow and upgrade old node shapes (admin)',
      description:
        'Walks every draft and published version, upgrades known legacy node shapes to the current schema and reports what changed and what is still invalid. A dry run (the default) changes nothing. Published versions are rewritten only by a shape-only upgrade that validates.',
      auth: 'session',
      roles: ['admin'],
      body: z.object({ dryRun: z.boolean().default(true), tenantId: z.string().uuid().optional() }).prefault({}),
      responses: {
        200: {
          description: 'What was (or, in a dry run, would be) changed',
          schema: z.object({
            dryRun: z.boolean(),
            scanned: z.object({ flows: z.number().int(), versions: z.number().int() }),
            changed: z.array(z.object({ flowId: z.string().uuid(), tenantId: z.string().uuid(), where: z.string(), changes: z.array(z.string()) })),
            invalid: z.array(z.object({ flowId: z.string().uuid(), tenantId: z.string().uuid(), where: z.string(), errors: z.array(z.string()) })),
          }),
        },
      },
      async handler(ctx, { body }) {
        return fixFlowShapes(ctx.state.em, { dryRun: body.dryRun, tenantId: body.tenantId });
      },
    }),
    route({
      method: 'get',
      path: '/api/flows/:id',
      tag,
      summary: 'Flow details, with the draft as graph and as drawflowData',
      description: secretsNote,
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'The flow', schema: flowDetail }, 404: { description: 'No such flow in your tenant' } },
      async handler(ctx, { params, principal }) {
        return detail(await findFlowInScope(ctx.state.em, principal!, params.id));
      },
    }),
    route({
      method: 'put',
      path: '/api/flows/:id',
      tag,
      summary: 'Update a flow: name, description, status, or the draft',
      description: `Setting status \`active\` needs a published version; new journeys then run the newest one. Published versions never change. ${secretsNote}`,
      auth: 'user',
      params: idParams,
      body: updateBody,
      responses: { 200: { description: 'Updated', schema: flowDetail }, 404: { description: 'No such flow in your tenant' } },
      async handler(ctx, { params, body, principal }) {
        const em: EntityManager = ctx.state.em;
        const flow = await findFlowInScope(em, principal!, params.id);
        const graph = withSecrets(graphFromBody(body), flow.draft, box);
        if (body.status !== undefined) assertStatusAllowed(body.status, flow.latestVersion);
        if (body.name !== undefined) flow.name = body.name;
        if (body.description !== undefined) flow.description = body.description;
        if (body.status !== undefined) flow.status = body.status;
        if (graph !== undefined) flow.draft = graph;
        if (body.whatsappLineId !== undefined) {
          if (body.whatsappLineId !== null && !(await findTenantLine(em, flow.tenantId, body.whatsappLineId))) {
            throw new AppError('invalid', 'whatsappLineId: no such WhatsApp line in this account');
          }
          flow.whatsappLineId = body.whatsappLineId;
        }
        await em.flush();
        return detail(flow);
      },
    }),
    route({
      method: 'delete',
      path: '/api/flows/:id',
      tag,
      summary: 'Delete a flow and its versions',
      description: 'Journeys already running keep going: each carries its own copy of the version it started on.',
      auth: 'user',
      params: idParams,
      responses: { 200: { description: 'Deleted', schema: successSchema }, 404: { description: 'No such flow in your tenant' } },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        await deleteFlow(em, await findFlowInScope(em, principal!, params.id));
        return { success: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/api/flows/:id/versions',
      tag,
      summary: 'List published versions, newest first',
      auth: 'user',
      params: idParams,
      query: z.object({ include: z.enum(['graph']).optional().meta({ description: 'include=graph adds each version’s graph' }) }),
      responses: { 200: { description: 'The versions', schema: z.array(versionSummary) }, 404: { description: 'No such flow in your tenant' } },
      async handler(ctx, { params, query, principal }) {
        const em: EntityManager = ctx.state.em;
        const flow = await findFlowInScope(em, principal!, params.id);
        return (await listVersions(em, flow.id, { withGraph: query.include === 'graph' })).map(versionOut);
      },
    }),
    route({
      method: 'post',
      path: '/api/flows/:id/versions',
      tag,
      summary: 'Publish the current draft as the next version',
      description: 'The draft is validated again and frozen as version N+1. Versions are immutable; running journeys keep the version they started on.',
      auth: 'user',
      params: idParams,
      responses: {
        201: { description: 'Published', schema: z.object({ flowId: z.string().uuid(), version: z.number().int(), publishedAt: z.string() }) },
        404: { description: 'No such flow in your tenant' },
      },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        const flow = await findFlowInScope(em, principal!, params.id);
        const version = await publishDraft(em, flow.id, principal!.userId);
        ctx.status = 201;
        return { flowId: flow.id, version: version.version, publishedAt: version.publishedAt.toISOString() };
      },
    }),
    route({
      method: 'get',
      path: '/api/flows/:id/versions/:version',
      tag,
      summary: 'One published version, with its graph and drawflowData',
      auth: 'user',
      params: versionParams,
      responses: {
        200: { description: 'The version', schema: versionSummary.extend({ graph: graphOut, drawflowData: drawflowOut.nullable() }) },
        404: { description: 'No such flow or version in your tenant' },
      },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        const flow = await findFlowInScope(em, principal!, params.id);
        const v = await em.findOne(FlowVersion, { flowId: flow.id, version: params.version });
        if (!v) throw notFound(`Version ${params.version} of this flow`);
        return { ...versionOut(v), ...bothForms(v.graph) };
      },
    }),
  ];
}
