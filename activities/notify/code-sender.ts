import type { Logger } from 'pino';
import type { VerificationChannel } from '../../core/db/entities';

/** Where verification codes leave the system: an e-mail or WhatsApp provider in production. */
export interface CodeSender {
  send(message: { channel: VerificationChannel; destination: string; code: string; text: string }): Promise<void>;
}

/** Development and self-hosting without a provider: the code is written to the worker's log. */
export function logCodeSender(logger: Logger): CodeSender {
  return {
    async send({ channel, destination, code }) {
      logger.info({ channel, destination, code }, 'verification code (development sender: not delivered)');
    },
  };
}
