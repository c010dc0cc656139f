/**
 * The dashboard's only way to the server: the public REST API, with the session cookie. Every answer that is
 * not 2xx becomes a thrown ApiError carrying the API's own `{error}` text, for the page to show as it is.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called on a 401 from any call but the login itself, so the app can return to the sign-in form. */
let onUnauthenticated: ((message: string) => void) | undefined;
export function setUnauthenticatedHandler(handler: (message: string) => void): void {
  onUnauthenticated = handler;
}

type Query = Record<string, string | number | boolean | undefined>;

export async function request<T>(method: string, path: string, opts: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<T> {
  const qs = opts.query
    ? new URLSearchParams(Object.entries(opts.query).filter((e): e is [string, string | number | boolean] => e[1] !== undefined && e[1] !== '').map(([k, v]) => [k, String(v)])).toString()
    : '';
  let res: Response;
  try {
    res = await fetch(qs ? `${path}?${qs}` : path, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  } catch (err) {
    throw new ApiError(`Cannot reach the server (${(err as Error).message}). Check your connection and try again.`, 0);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const apiMessage = (data as { error?: unknown } | undefined)?.error;
    const message = typeof apiMessage === 'string' && apiMessage ? apiMessage : `The server answered ${res.status} ${res.statusText}${text && !data ? `: ${text.slice(0, 200)}` : ''}`;
    if (res.status === 401 && path !== '/api/auth/login' && path !== '/api/auth/me') onUnauthenticated?.(message);
    throw new ApiError(message, res.status);
  }
  return data as T;
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A fresh Idempotency-Key: one per composed message or bulk send, kept across retries of that same one. */
export const newKey = (): string => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

// ---- Types of the answers (see GET /api/openapi.json) ----

export type Role = 'admin' | 'owner' | 'user';
export type Theme = 'light' | 'dark' | 'system';

export interface Me {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  role: Role;
  tenantId: string;
  language: string;
  theme: Theme;
}

export type FlowStatus = 'draft' | 'active' | 'inactive';

export interface FlowSummary {
  id: string;
  name: string;
  description: string | null;
  status: FlowStatus;
  latestVersion: number | null;
  whatsappLineId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface GraphNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: Record<string, unknown>;
  ui?: Record<string, unknown>;
}
export interface GraphEdge {
  id?: string;
  source: string;
  sourceHandle: string;
  target: string;
}
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface FlowDetail extends FlowSummary {
  graph: Graph;
  drawflowData: unknown;
}

export interface FlowVersion {
  version: number;
  publishedAt: string;
  publishedBy: string | null;
  shapeUpgradedAt: string | null;
}

export type ConversationStatus = 'bot' | 'agent' | 'closed';
export interface ConversationSummary {
  id: string;
  waPhoneNumber: string;
  customerName: string | null;
  flowId: string | null;
  flowVersion: number | null;
  status: ConversationStatus;
  assignedUserId: string | null;
  currentNode: string | null;
  lastMessage: string | null;
  lastMessageAt: string | null;
  startedAt: string;
  lastCustomerMessageAt: string | null;
  windowOpen: boolean;
  channel: string;
  lineId: string;
}
export interface ConversationStats {
  bot: number;
  agent: number;
  closed: number;
  total: number;
}

export type MessageStatus = 'received' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
export interface ChatMessage {
  id: string;
  direction: 'in' | 'out';
  type: string;
  text: string | null;
  payload: Record<string, unknown>;
  status: MessageStatus;
  errorCode: number | null;
  errorTitle: string | null;
  sentBy: string | null;
  journeyNode: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
}
export interface JourneyState {
  flowId?: string;
  version?: number;
  currentNode?: string;
  status: string;
  waitingFor?: string;
  paused: boolean;
  variables: Record<string, string>;
  lastError?: string;
}
export interface ConversationDetail extends ConversationSummary {
  messages: ChatMessage[];
  messagesTotal: number;
  journeyWorkflowId: string;
  journey: JourneyState | null;
  journeyError?: string;
  temporalUrl: string;
}

export type ReplyBody =
  | { messageType: 'text'; text: string }
  | { messageType: 'image' | 'video' | 'document' | 'audio'; mediaUrl: string; caption?: string; filename?: string }
  | { messageType: 'template'; templateId?: string; templateGroupId?: string; templateName?: string; templateLanguage: string; templateParams: string[] };

export interface WhatsAppLine {
  id: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  accessToken: string;
  verifyToken: string;
  isPrimary: boolean;
  status: 'active' | 'disabled' | 'needs_reauth';
  createdAt: string;
}

export interface ApiAccess {
  clientId: string | null;
  keyPrefix: string | null;
  rotatedAt: string | null;
  apiAccessApproved: boolean;
}

export interface SmsSettings {
  provider: 'twilio';
  accountSid: string;
  /** Masked: `****` and the last four characters at most. */
  authToken: string;
  from: string | null;
  messagingServiceSid: string | null;
  baseUrl: string;
  statusCallbackUrl: string | null;
  fallbackEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface SmsSettingsBody {
  accountSid?: string;
  authToken?: string;
  from?: string | null;
  messagingServiceSid?: string | null;
  baseUrl?: string;
  statusCallbackUrl?: string | null;
  fallbackEnabled?: boolean;
}

export interface ManagedUser {
  id: string;
  tenantId: string;
  username: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  role: Role;
  disabled: boolean;
  apiAccessApproved: boolean;
  hasApiCredentials: boolean;
  createdAt: string;
}

export type TemplateStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export interface TemplateComponent {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS';
  format?: string;
  text?: string;
  example?: Record<string, unknown>;
  buttons?: unknown[];
}
export interface Template {
  id: string;
  name: string;
  language: string;
  category: TemplateCategory;
  status: TemplateStatus;
  components: TemplateComponent[];
  wabaId: string;
  providerTemplateId: string | null;
  rejectedReason: string | null;
  qualityScore: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface NewTemplate {
  name: string;
  language: string;
  category: TemplateCategory;
  components: TemplateComponent[];
  phoneNumberId?: string;
}
export interface TemplateGroup {
  id: string;
  name: string;
  templateIds: string[];
  templates: Array<Pick<Template, 'id' | 'name' | 'language' | 'category' | 'status'>>;
  preferredPhoneNumberId: string | null;
  wabaId: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface SyncResult {
  success: true;
  wabaIds: string[];
  created: number;
  updated: number;
  removed: number;
  skipped: Array<{ wabaId: string; reason: string }>;
  templates: Template[];
}

export type CampaignStatus = 'running' | 'paused' | 'completed' | 'cancelled' | 'failed';
export interface CampaignProgress {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
  optedOut: number;
}
export interface Campaign {
  id: string;
  name: string;
  status: CampaignStatus;
  statusReason: string | null;
  lineId: string;
  phoneNumberId: string | null;
  message: { type: 'template'; name?: string; templateId?: string; templateGroupId?: string; language: string; params: string[] };
  sourceRef: string | null;
  recipientCount: number;
  progress: CampaignProgress;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}
export interface BulkSendBody {
  name?: string;
  templateId?: string;
  templateGroupId?: string;
  phoneNumberId?: string;
  params?: string[];
  recipients: Array<string | { phone: string; params?: string[] }>;
}
export interface BulkSendAccepted {
  success: true;
  campaignId: string;
  status: CampaignStatus;
  recipients: number;
  duplicates: number;
  phoneNumberId: string;
  progressUrl: string;
}

export type MonitorStatus = 'problems' | 'stale' | 'failed' | 'queued' | 'sent' | 'delivered' | 'read' | 'all';
export interface MonitoredMessage {
  messageId: string;
  tenantId: string;
  conversationId: string;
  providerMessageId: string | null;
  phone: string;
  lineId: string;
  phoneNumberId: string | null;
  campaignId: string | null;
  sourceRef: string | null;
  sentBy: string | null;
  type: string;
  templateName: string | null;
  status: MessageStatus;
  stale: 'no_status' | 'in_doubt' | 'not_attempted' | null;
  staleMarkedAt: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  attempts: number;
  round: number;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  retry: { allowed: boolean; reason: string | null; message: string | null };
}
export interface DeliveryOverview {
  window: { since: string; until: string | null };
  staleAfterMinutes: number;
  summary: {
    total: number;
    queued: number;
    sent: number;
    delivered: number;
    read: number;
    failed: number;
    stale: number;
    failuresByCode: Array<{ errorCode: number | null; errorTitle: string | null; count: number }>;
  };
  messages: MonitoredMessage[];
  total: number;
  limit: number;
  offset: number;
}
export interface DeliveryAudit {
  message: MonitoredMessage;
  attempts: Array<{
    attemptNo: number;
    round: number;
    /** sms: the fallback engine's last step (phoneNumberId is then the SMS sender). */
    channel: 'whatsapp' | 'sms';
    phoneNumberId: string;
    templateName: string | null;
    templateLanguage: string | null;
    outcome: 'pending' | 'sent' | 'failed' | 'skipped';
    providerMessageId: string | null;
    errorCode: number | null;
    errorTitle: string | null;
    tries: number;
    startedAt: string;
    finishedAt: string | null;
  }>;
  retries: Array<{ round: number; requestedBy: string | null; requestedAt: string; outcome: string; detail: string | null; finishedAt: string | null }>;
  trail: Array<{ at: string; event: string; round: number; detail: string | null }>;
}
export interface RetryAnswer {
  queued: number;
  messages: Array<{ messageId: string; round: number; workflowId: string; alreadyQueued: boolean }>;
  refused: Array<{ messageId: string; reason: string; message: string }>;
}
export interface RetryFilter {
  status?: 'failed' | 'stale' | 'problems';
  campaignId?: string;
  lineId?: string;
  errorCode?: number;
  since?: string;
}

export type SimulatedCustomerMessage = { text: string } | { buttonReply: { id: string; title: string } } | { listReply: { id: string; title: string } };

// ---- Endpoints ----

const id = encodeURIComponent;

export const api = {
  login: (username: string, password: string) => request<{ user: { id: string } }>('POST', '/api/auth/login', { body: { username, password } }),
  logout: () => request<{ success: true }>('POST', '/api/auth/logout'),
  me: () => request<{ user: Me }>('GET', '/api/auth/me'),
  saveLanguage: (language: string) => request('POST', '/api/auth/language', { body: { language } }),
  saveTheme: (theme: Theme) => request('POST', '/api/auth/theme', { body: { theme } }),

  flows: () => request<FlowSummary[]>('GET', '/api/flows'),
  flow: (flowId: string) => request<FlowDetail>('GET', `/api/flows/${id(flowId)}`),
  createFlow: (body: { name: string; graph?: Graph; drawflowData?: unknown }) => request<FlowDetail>('POST', '/api/flows', { body }),
  updateFlow: (flowId: string, body: { name?: string; status?: FlowStatus; graph?: Graph; drawflowData?: unknown }) =>
    request<FlowDetail>('PUT', `/api/flows/${id(flowId)}`, { body }),
  deleteFlow: (flowId: string) => request('DELETE', `/api/flows/${id(flowId)}`),
  versions: (flowId: string) => request<FlowVersion[]>('GET', `/api/flows/${id(flowId)}/versions`),
  publish: (flowId: string) => request<{ version: number; publishedAt: string }>('POST', `/api/flows/${id(flowId)}/versions`),

  conversations: (query: Query) => request<{ conversations: ConversationSummary[]; stats: ConversationStats }>('GET', '/api/conversations', { query: { ...query, stats: 1 } }),
  conversation: (conversationId: string) => request<ConversationDetail>('GET', `/api/conversations/${id(conversationId)}`),
  assign: (conversationId: string, action: 'claim' | 'release' | 'close') =>
    request<ConversationSummary>('PUT', `/api/conversations/${id(conversationId)}`, { body: { action } }),
  reply: (conversationId: string, body: ReplyBody, idempotencyKey: string) =>
    request<{ success: true; messageId: string | null; windowOpen: boolean; queued: boolean }>('POST', `/api/conversations/${id(conversationId)}/reply`, {
      body,
      headers: { 'Idempotency-Key': idempotencyKey },
    }),

  lines: () => request<{ lines: WhatsAppLine[]; webhookUrl: string | null }>('GET', '/api/settings/whatsapp'),
  saveLine: (body: Record<string, unknown>) => request<WhatsAppLine>('POST', '/api/settings/whatsapp', { body }),
  updateLine: (lineId: string, body: Record<string, unknown>) => request<WhatsAppLine>('PUT', `/api/settings/whatsapp/${id(lineId)}`, { body }),
  deleteLine: (lineId: string) => request('DELETE', `/api/settings/whatsapp/${id(lineId)}`),
  apiAccess: () => request<ApiAccess>('GET', '/api/settings/api-access'),
  rotateKey: () => request<{ clientId: string; apiKey: string; rotatedAt: string; apiAccessApproved: boolean; message: string }>('POST', '/api/settings/api-access/rotate'),
  /** null: no SMS provider is configured (the API's 404). */
  smsSettings: () =>
    request<SmsSettings>('GET', '/api/settings/sms').catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
  saveSmsSettings: (body: SmsSettingsBody) => request<SmsSettings>('PUT', '/api/settings/sms', { body }),
  deleteSmsSettings: () => request<{ success: true }>('DELETE', '/api/settings/sms'),

  users: (query: Query) => request<{ users: ManagedUser[]; total: number }>('GET', '/api/users', { query }),
  createUser: (body: Record<string, unknown>) => request<ManagedUser>('POST', '/api/users', { body }),
  updateUser: (userId: string, body: Record<string, unknown>) => request<ManagedUser>('PUT', `/api/users/${id(userId)}`, { body }),

  templates: (query: Query = {}) => request<Template[]>('GET', '/api/templates', { query }),
  createTemplate: (body: NewTemplate) => request<Template>('POST', '/api/templates', { body }),
  deleteTemplate: (templateId: string) => request('DELETE', `/api/templates/${id(templateId)}`),
  syncTemplates: () => request<SyncResult>('POST', '/api/templates/sync', { body: {} }),
  groups: () => request<TemplateGroup[]>('GET', '/api/templates/groups'),
  createGroup: (body: { name: string; templateIds: string[]; preferredPhoneNumberId?: string | null }) => request<TemplateGroup>('POST', '/api/templates/groups', { body }),
  updateGroup: (groupId: string, body: { name?: string; templateIds?: string[]; preferredPhoneNumberId?: string | null }) =>
    request<TemplateGroup>('PUT', `/api/templates/groups/${id(groupId)}`, { body }),
  deleteGroup: (groupId: string) => request('DELETE', `/api/templates/groups/${id(groupId)}`),

  bulkSend: (body: BulkSendBody, idempotencyKey: string) =>
    request<BulkSendAccepted>('POST', '/api/templates/bulk-send', { body, headers: { 'Idempotency-Key': idempotencyKey } }),
  campaigns: (query: Query = {}) => request<{ campaigns: Campaign[]; total: number }>('GET', '/api/campaigns', { query }),
  campaign: (campaignId: string) => request<Campaign>('GET', `/api/campaigns/${id(campaignId)}`),
  controlCampaign: (campaignId: string, action: 'pause' | 'resume' | 'cancel') => request<Campaign>('POST', `/api/campaigns/${id(campaignId)}/${action}`),

  simulator: () => request<{ available: boolean; reason?: string }>('GET', '/api/simulator'),
  simulateCustomer: (body: { phoneNumberId: string; from: string; name?: string } & SimulatedCustomerMessage) =>
    request<{ success: true; wamid: string }>('POST', '/api/simulator/inbound', { body }),
  triggerOutbound: (body: { phone: string; flowId: string; data?: Record<string, unknown> }) =>
    request<{ success: true; journeyId: string }>('POST', '/api/webhook/outbound', { body }),
  triggerApi: (flowId: string, fields: Record<string, unknown>) => request<{ success: true; journeyId: string }>('POST', `/api/webhook/flow/${id(flowId)}`, { body: fields }),

  deliveryOverview: (query: Query) => request<DeliveryOverview>('GET', '/api/monitor/delivery', { query }),
  deliveryAudit: (messageId: string) => request<DeliveryAudit>('GET', '/api/monitor/delivery', { query: { messageId } }),
  retryDelivery: (body: { messageId: string } | { filter: RetryFilter; limit?: number }) => request<RetryAnswer>('POST', '/api/monitor/delivery', { body }),
};
