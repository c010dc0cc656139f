import type { EntityManager } from '@mikro-orm/postgresql';
import type { generateFlow } from '../../workflows/ai/generate-flow';
import { AiGeneration, type Flow } from '../db/entities';
import { AppError } from '../errors';
import { createFlow } from '../flows/repository';
import { newId } from '../ids';
import type { TemporalHandle } from '../temporal/connect';
import { generationWorkflowId } from '../temporal/workflow-ids';
import { aiFailureTypes, type GenerateFlowResult } from './activities';
import { assertWithinBudget } from './budget';
import { extractPdfText, sniffFileType } from './documents';
import { hasProvider, noProviderMessage, type FallbackProvider } from './providers';
import { runAiWorkflow } from './run-workflow';

/**
 * POST /api/flows/generate, below HTTP: the request's material is checked and stored, the `generateFlow`
 * workflow asks the model (retrying the provider's transient failures, repairing one invalid answer), and the
 * API waits for it — the seed's contract is synchronous — then saves the flow as a draft. When the model
 * keeps answering invalid flows, or the provider fails, nothing is saved and the error says why.
 */

export interface GenerationRequest {
  tenantId: string;
  userId: string | null;
  prompt: string;
  file?: { filename: string; data: Buffer };
}

export interface GeneratedDraft {
  flow: Flow;
  nodeCount: number;
}

export async function generateFlowDraft(
  deps: { temporal: TemporalHandle; fallback: FallbackProvider; timeoutSec: number },
  em: EntityManager,
  request: GenerationRequest,
): Promise<GeneratedDraft> {
  if (!(await hasProvider(em, deps.fallback, request.tenantId))) throw new AppError('invalid', noProviderMessage);
  await assertWithinBudget(em, request.tenantId);
  const generation = await storeRequest(em, request);

  let result: GenerateFlowResult;
  try {
    result = await runWorkflow(deps, generation);
  } catch (err) {
    await finish(em, generation, { status: 'failed', error: (err as Error).message });
    throw err;
  }
  return em.transactional(async (tem) => {
    const flow = await createFlow(tem, {
      tenantId: request.tenantId,
      createdBy: request.userId,
      name: result.name,
      description: result.description || null,
      status: 'draft',
      graph: result.graph,
    });
    await finish(tem, generation, { status: 'succeeded', flowId: flow.id, nodeCount: result.graph.nodes.length, repaired: result.repaired });
    return { flow, nodeCount: result.graph.nodes.length };
  });
}

/** The file is judged by its bytes: a PDF gives its text, an image is kept for a vision model, anything else is a 415. */
async function storeRequest(em: EntityManager, request: GenerationRequest): Promise<AiGeneration> {
  let fileType: string | null = null;
  let documentText: string | null = null;
  let imageData: Buffer | null = null;
  if (request.file) {
    const type = sniffFileType(request.file.data);
    if (!type) throw new AppError('unsupported_media', 'file: unsupported type: send a PDF, or a PNG, JPEG, GIF or WebP image');
    fileType = type;
    if (type === 'application/pdf') documentText = (await extractPdfText(request.file.data)).text;
    else imageData = request.file.data;
  }
  const generation: AiGeneration = Object.assign(new AiGeneration(), {
    id: newId(),
    tenantId: request.tenantId,
    userId: request.userId,
    prompt: request.prompt,
    fileName: request.file?.filename ?? null,
    fileType,
    documentText,
    imageData,
    status: 'running' as const,
    createdAt: new Date(),
  });
  await em.insert(AiGeneration, generation);
  return generation;
}

async function finish(em: EntityManager, generation: AiGeneration, outcome: Partial<Pick<AiGeneration, 'status' | 'flowId' | 'nodeCount' | 'repaired' | 'error'>>): Promise<void> {
  // The image has served its purpose; the text and the outcome stay as the request's record.
  await em.nativeUpdate(AiGeneration, { id: generation.id }, { ...outcome, imageData: null, finishedAt: new Date() });
}

function runWorkflow(deps: { temporal: TemporalHandle; timeoutSec: number }, generation: AiGeneration): Promise<GenerateFlowResult> {
  return runAiWorkflow<typeof generateFlow>(deps.temporal, {
    workflowType: 'generateFlow',
    workflowId: generationWorkflowId(generation.id),
    args: [{ generationId: generation.id, tenantId: generation.tenantId }],
    tenantId: generation.tenantId,
    timeoutSec: deps.timeoutSec,
    what: 'generate a flow',
    afterTimeout: 'nothing was saved, try again',
    failure(cause, err) {
      switch (cause?.type) {
        case aiFailureTypes.invalidFlow:
          return new AppError('upstream', `The AI model did not produce a valid flow, even after being shown its errors; nothing was saved. Try a more specific prompt. (${cause.message})`);
        case aiFailureTypes.auth:
        case aiFailureTypes.quota:
        case aiFailureTypes.rejected:
        case aiFailureTypes.transient:
          return new AppError('upstream', `The AI provider failed; nothing was saved: ${cause.message}`);
        default:
          return new AppError('upstream', `Flow generation failed; nothing was saved: ${cause?.message ?? err.message}`);
      }
    },
  });
}
