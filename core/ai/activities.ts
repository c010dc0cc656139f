import type { FlowGraph } from '../flow/schema';
import type { KnowledgeReplyInput, KnowledgeReplyResult, RecordKnowledgeReplyInput } from './knowledge-reply';
import type { VariantProblem, VariantsRequest } from './template-variants';

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
  /** No variant the model wrote followed the template rules, even after the repair. */
  invalidVariants: 'invalid_variants',
  notConfigured: 'ai_not_configured',
  /** The provider refused the key (401/403). */
  auth: 'ai_auth',
  /** The account at the provider has no credit left. */
  quota: 'ai_quota',
  /** The provider refused the request itself (unknown model, bad parameters). */
  rejected: 'ai_rejected',
  /** Network errors, 429 and 5xx: retried, and this type once retries are exhausted. */
  transient: 'ai_transient',
  /** The tenant's monthly AI budget is used up (core/ai/budget.ts): no call was made. */
  budgetExceeded: 'ai_budget_exceeded',
} as const;

export interface DraftVariantsInput {
  tenantId: string;
  /** Names the request in the usage rows: `variants/<id>`. */
  reference: string;
  request: VariantsRequest;
  /** A second attempt: the previous answer, what was wrong with it, and the variants kept from it. */
  repair?: { answer: string; problems: VariantProblem[]; answerErrors: string[]; wanted: number; kept: string[] };
}

export interface DraftVariantsResult {
  answer: string;
  provider: string;
  model: string;
  /** The variants that follow the template rules, in the model's order, none a repeat of another or of `repair.kept`. */
  valid: string[];
  /** The variants that do not, with why. */
  problems: VariantProblem[];
  /** What was wrong with the answer as a whole: not JSON, cut off, refused. */
  answerErrors: string[];
}

export interface TemplateVariantsInput {
  tenantId: string;
  reference: string;
  request: VariantsRequest;
}

export interface TemplateVariantsResult {
  /** Valid variants, at most as many as requested (fewer when some stayed invalid after the repair). */
  variants: string[];
  /** Some variants came from the repair. */
  repaired: boolean;
  provider: string;
  model: string;
}

export interface AiActivities {
  /** Asks the model for a flow (or its repair) and checks the answer; usage is recorded. */
  draftFlow(input: DraftFlowInput): Promise<DraftFlowResult>;
  /** Asks the model for template variants (or replacements for broken ones) and checks each; usage is recorded. */
  draftTemplateVariants(input: DraftVariantsInput): Promise<DraftVariantsResult>;
  /** Retrieves from the tenant's knowledge base and asks the model for a grounded answer, or says why to hand off. */
  answerFromKnowledge(input: KnowledgeReplyInput): Promise<KnowledgeReplyResult>;
  /** Notes on the sent answer's message row which documents it was drawn from. */
  recordKnowledgeReply(input: RecordKnowledgeReplyInput): Promise<void>;
}
