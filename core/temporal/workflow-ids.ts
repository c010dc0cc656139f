/** Workflow ids are readable and deterministic: the id names the thing, and its uniqueness is the lock. */
export const verificationWorkflowId = (verificationId: string): string => `verification/${verificationId}`;

/** One journey per contact per line: `journey/{tenantId}/{channel}/{lineId}/{contact}`. */
export const journeyWorkflowId = (key: { tenantId: string; channel: string; lineId: string; contact: string }): string =>
  `journey/${key.tenantId}/${key.channel}/${key.lineId}/${key.contact}`;

/** One delivery per outbound message outside a journey step: `message/{idempotencyKey}`. */
export const deliveryWorkflowId = (idempotencyKey: string): string => `message/${idempotencyKey}`;

/** One flow generation (POST /api/flows/generate): `ai-generation/{generationId}`. */
export const generationWorkflowId = (generationId: string): string => `ai-generation/${generationId}`;

/** One workflow per campaign (bulk send): `campaign/{tenantId}/{campaignId}`. */
export const campaignWorkflowId = (tenantId: string, campaignId: string): string => `campaign/${tenantId}/${campaignId}`;
