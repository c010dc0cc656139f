import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

const { deliverVerificationCode } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Delivers one verification code. A workflow, so that a failing e-mail or WhatsApp provider is retried. */
export async function sendVerificationCode(verificationId: string): Promise<void> {
  await deliverVerificationCode(verificationId);
}
