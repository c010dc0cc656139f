import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const aiProviderKinds = ['openai', 'openai_compatible'] as const;
export type AiProviderKind = (typeof aiProviderKinds)[number];

/** What an AI call is for: each provider has a default model per purpose, and usage is reported by it. */
export const aiPurposes = ['generation', 'replies', 'embeddings'] as const;
export type AiPurpose = (typeof aiPurposes)[number];

/**
 * An AI provider a tenant configured: OpenAI, or any endpoint speaking its API (base URL). At most one per
 * tenant is the default (a partial unique index); without one, the installation's OPENAI_* provider is used.
 */
export class AiProvider {
  [OptionalProps]?: 'baseUrl' | 'apiKeySealed' | 'apiKeyHint' | 'isDefault' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  name!: string;
  kind!: AiProviderKind;
  /** Null: OpenAI's own API. */
  baseUrl?: string | null;
  /** Sealed by core/crypto/secret-box.ts with the provider id as context; null for endpoints that need no key. */
  apiKeySealed?: string | null;
  /** The last characters of the key, so a person can tell keys apart without the secret. */
  apiKeyHint = '';
  generationModel!: string;
  replyModel!: string;
  embeddingModel!: string;
  isDefault = false;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const AiProviderSchema = new EntitySchema<AiProvider>({
  class: AiProvider,
  tableName: 'ai_providers',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    name: { type: 'string' },
    kind: { type: 'string' },
    baseUrl: { type: 'text', nullable: true },
    apiKeySealed: { type: 'text', nullable: true },
    apiKeyHint: { type: 'string' },
    generationModel: { type: 'string' },
    replyModel: { type: 'string' },
    embeddingModel: { type: 'string' },
    isDefault: { type: 'boolean' },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});

/** A tenant's AI budget: usage is compared with it by GET /api/usage/balance. */
export class AiBudget {
  [OptionalProps]?: 'alertAtPercent' | 'updatedAt';
  tenantId!: string;
  /** Null: no budget. */
  monthlyBudgetUsd?: number | null;
  alertAtPercent = 80;
  updatedAt: Date = new Date();
}

export const AiBudgetSchema = new EntitySchema<AiBudget>({
  class: AiBudget,
  tableName: 'ai_budgets',
  properties: {
    tenantId: { type: 'uuid', primary: true },
    monthlyBudgetUsd: { type: 'double', columnType: 'double precision', nullable: true, runtimeType: 'number' },
    alertAtPercent: { type: 'integer' },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});

/**
 * One call to a model, as billed: tokens, and the cost estimated from core/ai/pricing.ts when the model's
 * price is known (null otherwise). Rows are only inserted.
 */
export class AiUsage {
  [OptionalProps]?: 'providerId' | 'costUsd' | 'reference' | 'createdAt';
  id!: string;
  tenantId!: string;
  /** Null: the installation's provider (OPENAI_*), or a provider deleted since. */
  providerId?: string | null;
  providerName!: string;
  model!: string;
  purpose!: AiPurpose;
  promptTokens!: number;
  completionTokens!: number;
  totalTokens!: number;
  costUsd?: number | null;
  /** What the call was for, e.g. `generation/<id>`. */
  reference?: string | null;
  createdAt: Date = new Date();
}

export const AiUsageSchema = new EntitySchema<AiUsage>({
  class: AiUsage,
  tableName: 'ai_usage',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    providerId: { type: 'uuid', nullable: true },
    providerName: { type: 'string' },
    model: { type: 'string' },
    purpose: { type: 'string' },
    promptTokens: { type: 'integer' },
    completionTokens: { type: 'integer' },
    totalTokens: { type: 'integer' },
    costUsd: { type: 'double', columnType: 'double precision', nullable: true, runtimeType: 'number' },
    reference: { type: 'text', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
  },
});

export const aiGenerationStatuses = ['running', 'succeeded', 'failed'] as const;
export type AiGenerationStatus = (typeof aiGenerationStatuses)[number];

/**
 * One request to POST /api/flows/generate: its material (so the workflow's activities read it from here
 * rather than through Temporal payloads, which must stay small) and its outcome. The image bytes are
 * dropped once the request is finished.
 */
export class AiGeneration {
  [OptionalProps]?: 'userId' | 'fileName' | 'fileType' | 'documentText' | 'imageData' | 'status' | 'flowId' | 'nodeCount' | 'repaired' | 'error' | 'createdAt' | 'finishedAt';
  id!: string;
  tenantId!: string;
  userId?: string | null;
  prompt!: string;
  fileName?: string | null;
  /** The file's sniffed media type (application/pdf, image/png, …). */
  fileType?: string | null;
  /** A PDF's extracted text. */
  documentText?: string | null;
  imageData?: Buffer | null;
  status: AiGenerationStatus = 'running';
  flowId?: string | null;
  nodeCount?: number | null;
  repaired?: boolean | null;
  error?: string | null;
  createdAt: Date = new Date();
  finishedAt?: Date | null;
}

export const AiGenerationSchema = new EntitySchema<AiGeneration>({
  class: AiGeneration,
  tableName: 'ai_generations',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    userId: { type: 'uuid', nullable: true },
    prompt: { type: 'text' },
    fileName: { type: 'text', nullable: true },
    fileType: { type: 'string', nullable: true },
    documentText: { type: 'text', nullable: true },
    imageData: { type: 'blob', nullable: true, lazy: true },
    status: { type: 'string' },
    flowId: { type: 'uuid', nullable: true },
    nodeCount: { type: 'integer', nullable: true },
    repaired: { type: 'boolean', nullable: true },
    error: { type: 'text', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    finishedAt: { type: 'Date', nullable: true },
  },
});
