import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_FOLLOW_HOURS, DEFAULT_STALE_AFTER_MINUTES, type DeliverySettings } from './delivery/types';
import type { OutboundPolicy } from './net/outbound-guard';

/**
 * The only place that reads the environment. Everything else receives a `Config`.
 * Defaults describe the embedded stack that `npm start` brings up.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./.data'),
  DATABASE_URL: z.string().optional(),
  EMBEDDED_PG_PORT: z.coerce.number().int().default(54320),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('flowbot'),
  TEMPORAL_UI_URL: z.string().optional(),
  TEMPORAL_PORT: z.coerce.number().int().default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
  TEMPORAL_CLI: z.string().default('temporal'),
  JWT_SECRET: z.string().min(16).optional(),
  SESSION_TTL_SEC: z.coerce.number().int().positive().default(7 * 24 * 3600),
  COOKIE_SECURE: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
  ADMIN_USERNAME: z.string().min(3).default('admin'),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  AUTH_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  AUTH_RATE_WINDOW_SEC: z.coerce.number().int().positive().default(15 * 60),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
  VERIFICATION_CODE_TTL_SEC: z.coerce.number().int().positive().default(10 * 60),
  VERIFICATION_MAX_TRIES: z.coerce.number().int().positive().default(5),
  GOOGLE_CLIENT_ID: z.string().optional(),
  GOOGLE_JWKS_URL: z.string().url().default('https://www.googleapis.com/oauth2/v3/certs'),
  GOOGLE_ISSUER: z.string().default('https://accounts.google.com'),
  /** One or more keys, comma-separated: the first encrypts stored secrets, any of them decrypts (rotation). */
  ENCRYPTION_KEY: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((k) => k.trim()).filter(Boolean))
    .refine((keys) => keys.every((k) => k.length >= 16), 'each key must be at least 16 characters'),
  WHATSAPP_GRAPH_URL: z.string().url().default('https://graph.facebook.com'),
  GRAPH_API_VERSION: z.string().regex(/^v\d+\.\d+$/, 'a Graph API version such as v25.0').default('v25.0'),
  META_APP_SECRET: z.string().min(1).optional(),
  META_APP_ID: z.string().regex(/^\d+$/, "Meta's app id (digits only)").optional(),
  WHATSAPP_VERIFY_TOKEN: z.string().min(1).optional(),
  WHATSAPP_SIMULATOR: z.enum(['true', 'false']).optional(),
  METRICS_TOKEN: z.string().min(16).optional(),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).default(500),
  OUTBOUND_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).optional(),
  OUTBOUND_ALLOWED_HOSTS: z.string().default(''),
  WHATSAPP_SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(3901),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_SIMULATOR: z.enum(['true', 'false']).optional(),
  OPENAI_SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(3902),
  SMS_SIMULATOR: z.enum(['true', 'false']).optional(),
  SMS_SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(3903),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
  AI_UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  AI_GENERATION_TIMEOUT_SEC: z.coerce.number().int().positive().default(120),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  DELIVERY_STALE_AFTER_MINUTES: z.coerce.number().positive().default(DEFAULT_STALE_AFTER_MINUTES),
  DELIVERY_FOLLOW_HOURS: z.coerce.number().positive().max(24 * 365).default(DEFAULT_FOLLOW_HOURS),
  UPLOAD_ALLOWED_TYPES: z
    .string()
    .default(
      'application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/plain,text/markdown,text/html,text/csv,image/png,image/jpeg,image/gif,image/webp',
    )
    .transform((v) => v.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  publicUrl?: string;
  dataDir: string;
  databaseUrl?: string;
  embeddedPgPort: number;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    uiUrl?: string;
    port: number;
    uiPort: number;
    cli: string;
  };
  jwtSecret?: string;
  sessionTtlSec: number;
  cookieSecure: boolean;
  admin: { username: string; password?: string };
  logLevel: string;
  bodyLimitBytes: number;
  authRateLimit: { max: number; windowSec: number };
  trustProxy: boolean;
  verification: { ttlSec: number; maxTries: number };
  google: { clientId?: string; jwksUrl: string; issuer: string };
  /** Empty: a key generated once under DATA_DIR (see core/crypto/secret-box.ts). */
  encryptionKeys: string[];
  /**
   * graphUrl and apiVersion address the Cloud API (or the simulator); appSecret signs Meta's webhooks;
   * verifyToken is accepted by the webhook handshake besides each line's own. appId with appSecret exchange
   * Embedded Signup's code for a business token (api/routes/whatsapp-onboarding.ts).
   */
  whatsapp: { graphUrl: string; apiVersion: string; appSecret?: string; appId?: string; verifyToken?: string };
  /**
   * `npm start` runs the local WhatsApp Cloud API simulator and points the stack at it: by default when no
   * real Graph URL is configured outside production, so a first run can try a journey without Meta.
   */
  whatsappSimulator: { enabled: boolean; port: number };
  /** Likewise the OpenAI-compatible simulator, when no AI provider is configured for the installation. */
  openaiSimulator: { enabled: boolean; port: number };
  /** And the SMS (Twilio-compatible) simulator, which an account's SMS settings can point at. */
  smsSimulator: { enabled: boolean; port: number };
  /**
   * `fallback` is the installation-wide AI provider (OPENAI_BASE_URL / OPENAI_API_KEY), used by tenants that
   * configured none of their own; null when neither variable is set. See core/ai/providers.ts.
   */
  ai: {
    fallback: { baseUrl: string; apiKey?: string; models: { generation: string; replies: string; embeddings: string } } | null;
    uploadMaxBytes: number;
    generationTimeoutSec: number;
  };
  /** When set, GET /metrics needs it as a Bearer token. */
  metricsToken?: string;
  /** The worker's own /metrics (sends, inbox) and the Temporal SDK's runtime metrics; 0 turns one off. */
  workerMetricsPort: number;
  temporalMetricsPort: number;
  /**
   * Workflows (journeys) the worker keeps in memory between their tasks, least recently used first out. Each
   * costs about 0.5 MiB of resident memory; one evicted is replayed from its history on its next message.
   */
  workerMaxCachedWorkflows: number;
  /** Which addresses tenant-chosen URLs (HTTP request nodes, tenants' AI providers) may reach (core/net/outbound-guard.ts). */
  outbound: OutboundPolicy;
  /**
   * POST /api/upload and the knowledge base: files are kept under `dir` (DATA_DIR/uploads); a larger file is a
   * 413, a type (judged by the bytes) not in `allowedTypes` a 415.
   */
  uploads: { dir: string; maxBytes: number; allowedTypes: string[] };
  /** The delivery monitor's stale threshold and the delivery workflow's wait (core/delivery/types.ts). */
  delivery: DeliverySettings;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${issues}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      cli: e.TEMPORAL_CLI,
    },
    jwtSecret: e.JWT_SECRET,
    sessionTtlSec: e.SESSION_TTL_SEC,
    cookieSecure: e.COOKIE_SECURE,
    admin: { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD },
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    authRateLimit: { max: e.AUTH_RATE_LIMIT, windowSec: e.AUTH_RATE_WINDOW_SEC },
    trustProxy: e.TRUST_PROXY,
    verification: { ttlSec: e.VERIFICATION_CODE_TTL_SEC, maxTries: e.VERIFICATION_MAX_TRIES },
    google: { clientId: e.GOOGLE_CLIENT_ID, jwksUrl: e.GOOGLE_JWKS_URL, issuer: e.GOOGLE_ISSUER },
    encryptionKeys: e.ENCRYPTION_KEY,
    whatsapp: { graphUrl: e.WHATSAPP_GRAPH_URL, apiVersion: e.GRAPH_API_VERSION, appSecret: e.META_APP_SECRET, appId: e.META_APP_ID, verifyToken: e.WHATSAPP_VERIFY_TOKEN },
    metricsToken: e.METRICS_TOKEN,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    temporalMetricsPort: e.TEMPORAL_METRICS_PORT,
    workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    outbound: {
      allowPrivateNetworks: e.OUTBOUND_ALLOW_PRIVATE_NETWORKS ? e.OUTBOUND_ALLOW_PRIVATE_NETWORKS === 'true' : e.NODE_ENV !== 'production',
      allowedHosts: e.OUTBOUND_ALLOWED_HOSTS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    },
    uploads: { dir: path.join(path.resolve(e.DATA_DIR), 'uploads'), maxBytes: e.UPLOAD_MAX_BYTES, allowedTypes: e.UPLOAD_ALLOWED_TYPES },
    delivery: { staleAfterMinutes: e.DELIVERY_STALE_AFTER_MINUTES, followForMs: e.DELIVERY_FOLLOW_HOURS * 3600_000 },
    openaiSimulator: {
      enabled: e.OPENAI_SIMULATOR ? e.OPENAI_SIMULATOR === 'true' : !env.OPENAI_BASE_URL && !env.OPENAI_API_KEY && e.NODE_ENV !== 'production',
      port: e.OPENAI_SIMULATOR_PORT,
    },
    whatsappSimulator: {
      enabled: e.WHATSAPP_SIMULATOR ? e.WHATSAPP_SIMULATOR === 'true' : !env.WHATSAPP_GRAPH_URL && e.NODE_ENV !== 'production',
      port: e.WHATSAPP_SIMULATOR_PORT,
    },
    smsSimulator: {
      enabled: e.SMS_SIMULATOR ? e.SMS_SIMULATOR === 'true' : e.NODE_ENV !== 'production',
      port: e.SMS_SIMULATOR_PORT,
    },
    ai: {
      fallback:
        e.OPENAI_API_KEY || e.OPENAI_BASE_URL
          ? {
              baseUrl: e.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
              apiKey: e.OPENAI_API_KEY,
              models: { generation: e.OPENAI_MODEL, replies: e.OPENAI_MODEL, embeddings: e.OPENAI_EMBEDDING_MODEL },
            }
          : null,
      uploadMaxBytes: e.AI_UPLOAD_MAX_BYTES,
      generationTimeoutSec: e.AI_GENERATION_TIMEOUT_SEC,
    },
  };
}
