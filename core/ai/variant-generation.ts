import type { EntityManager } from '@mikro-orm/postgresql';
import type { generateTemplateVariants } from '../../workflows/ai/template-variants';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { TemporalHandle } from '../temporal/connect';
import { findTemplate } from '../templates/catalogue';
import { aiFailureTypes, type TemplateVariantsInput, type TemplateVariantsResult } from './activities';
import { assertWithinBudget } from './budget';
import { hasProvider, noProviderMessage, type FallbackProvider } from './providers';
import { runAiWorkflow } from './run-workflow';
import { bodyTextOf, placeholdersOf, templateBodyMaxChars, withBodyText } from './template-variants';

/**
 * POST /api/templates/ai-variants, below HTTP: the body text (a template's, or given), the
 * `generateTemplateVariants` workflow (the model's calls are retried and repaired there), and the answer. The
 * caller waits for it, as for flow generation; nothing is saved but usage.
 */

export interface VariantsCall {
  tenantId: string;
  templateId?: string;
  text?: string;
  count: number;
  tone?: string;
  language?: string;
}

export interface VariantsOutcome {
  source: { templateId: string | null; templateName: string | null; language: string | null; text: string; placeholders: string[] };
  variants: Array<{ text: string; length: number; components?: unknown[] }>;
  requested: number;
  dropped: number;
  repaired: boolean;
  provider: string;
  model: string;
}

export const variantsWorkflowId = (id: string): string => `ai-variants/${id}`;

export async function generateVariants(
  deps: { temporal: TemporalHandle; fallback: FallbackProvider; timeoutSec: number },
  em: EntityManager,
  call: VariantsCall,
): Promise<VariantsOutcome> {
  const template = call.templateId ? await findTemplate(em, call.tenantId, call.templateId) : undefined;
  const text = template ? bodyTextOf(template.components) : call.text;
  if (!text?.trim()) throw new AppError('invalid', `Template ${template?.name ?? call.templateId} has no body text to vary`);
  if (text.length > templateBodyMaxChars) throw new AppError('invalid', `The body text is ${text.length} characters long; a template body has at most ${templateBodyMaxChars}`);
  if (!(await hasProvider(em, deps.fallback, call.tenantId))) throw new AppError('invalid', noProviderMessage);
  await assertWithinBudget(em, call.tenantId);

  const language = call.language ?? template?.language;
  const id = newId();
  const result = await runWorkflow(deps, id, {
    tenantId: call.tenantId,
    reference: `variants/${id}`,
    request: { text, count: call.count, ...(call.tone ? { tone: call.tone } : {}), ...(language ? { language } : {}) },
  });
  return {
    source: { templateId: template?.id ?? null, templateName: template?.name ?? null, language: language ?? null, text, placeholders: [...new Set(placeholdersOf(text))] },
    variants: result.variants.map((v) => ({ text: v, length: v.length, ...(template ? { components: withBodyText(template.components, v) } : {}) })),
    requested: call.count,
    dropped: call.count - result.variants.length,
    repaired: result.repaired,
    provider: result.provider,
    model: result.model,
  };
}

function runWorkflow(deps: { temporal: TemporalHandle; timeoutSec: number }, id: string, input: TemplateVariantsInput): Promise<TemplateVariantsResult> {
  return runAiWorkflow<typeof generateTemplateVariants>(deps.temporal, {
    workflowType: 'generateTemplateVariants',
    workflowId: variantsWorkflowId(id),
    args: [input],
    tenantId: input.tenantId,
    timeoutSec: deps.timeoutSec,
    what: 'write variants',
    afterTimeout: 'try again',
    failure: (cause, err) =>
      cause?.type === aiFailureTypes.invalidVariants
        ? new AppError('upstream', `The AI model wrote no variant that follows WhatsApp's template rules, even after being shown its mistakes. (${cause.message})`)
        : new AppError('upstream', `The AI provider failed: ${cause?.message ?? err.message}`),
  });
}
