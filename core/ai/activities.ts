import type { FlowGraph } from '../flow/schema';

/** The AI activities workflows call; implemented in activities/ai/. Types only. */

export interface GenerateFlowInput {
  /** The ai_generations row holding the request's prompt, document text and image. */
  generationId: string;
  tenantId: string;
}

export interface DraftFlowInput extends GenerateFlowInput {
  /** A second attempt: the previous answer and what was wrong with it. */
  repair?: { answer: string; errors: string[] };
}

interface DraftCommon {
  /** The model's answer as it came (needed to ask for a repair). */
  answer: string;
  provider: string;
  model: string;
}

export type DraftFlowResult = (DraftCommon & { ok: true; name: string; description: string; graph: FlowGraph }) | (DraftCommon & { ok: false; errors: string[] });

export interface GenerateFlowResult {
  name: string;
  description: string;
  /** Valid against the flow schema and laid out for the canvas. */
  graph: FlowGraph;
  /** The first answer was invalid and the model repaired it. */
  repaired: boolean;
  provider: string;
  model: string;
}

/** Failure types the API tells apart (ApplicationFailure.type). */
export const aiFailureTypes = {
  /** The model answered an invalid flow twice. */
  invalidFlow: 'invalid_flow',
  notConfigured: 'ai_not_configured',
  /** The provider refused the key (401/403). */
  auth: 'ai_auth',
  /** The account at the provider has no credit left. */
  quota: 'ai_quota',
  /** The provider refused the request itself (unknown model, bad parameters). */
  rejected: 'ai_rejected',
  /** Network errors, 429 and 5xx: retried, and this type once retries are exhausted. */
  transient: 'ai_transient',
} as const;

export interface AiActivities {
  /** Asks the model for a flow (or its repair) and checks the answer; usage is recorded. */
  draftFlow(input: DraftFlowInput): Promise<DraftFlowResult>;
}
