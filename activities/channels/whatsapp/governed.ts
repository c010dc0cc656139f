import { ChannelSendError, LineBusyError } from '../../../core/channels/errors';
import type { RateGovernor } from '../../../core/channels/rate-governor';
import type { WhatsAppClient } from './client';

/**
 * The WhatsApp client with every message send paced by the line's governor: the send waits for its slot
 * (line rate and pair rate), the caller's `beforeSend` mark is made once the slot is reached, the moment the
 * provider answered is remembered (it bounds when the provider counted the send), and a rate-limit
 * answer slows the line (or the pair) down before the error goes on to the caller, who retries it as usual.
 * Read receipts are not messages and are not paced.
 */
export function governedWhatsAppClient(client: WhatsAppClient, governor: RateGovernor): WhatsAppClient {
  return {
    ...client,
    async sendMessage({ beforeSend, maxWaitMs, ...req }) {
      const contact = req.to.replace(/^\+/, '');
      if (maxWaitMs !== undefined) {
        const waitMs = await governor.backlogMs({ phoneNumberId: req.phoneNumberId, contact });
        if (waitMs > maxWaitMs) throw new LineBusyError(waitMs);
      }
      try {
        return await governor.send({ phoneNumberId: req.phoneNumberId, contact }, beforeSend, () => client.sendMessage(req));
      } catch (err) {
        if (err instanceof ChannelSendError && err.errorClass === 'rate_limited') {
          await governor.rateLimited({ phoneNumberId: req.phoneNumberId, contact, code: err.code, retryAfterMs: err.retryAfterMs }).catch(() => undefined);
        }
        throw err;
      }
    },
  };
}
