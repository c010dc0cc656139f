/** Workflow ids are readable and deterministic: the id names the thing, and its uniqueness is the lock. */
export const verificationWorkflowId = (verificationId: string): string => `verification/${verificationId}`;
