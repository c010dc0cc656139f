import { pacingOf, type PacingReport } from '../../core/campaigns/throughput';
import type { TestAccount } from './accounts';
import { eventually, type JourneyStack } from './journey-stack';

export interface CampaignView {
  id: string;
  status: string;
  statusReason: string | null;
  lineId: string;
  phoneNumberId: string | null;
  recipientCount: number;
  finishedAt: string | null;
  progress: { total: number; queued: number; sent: number; delivered: number; read: number; failed: number; skipped: number; optedOut: number };
}

let lineSeq = 0;
let phoneBlock = 0;

/** `n` distinct phone numbers in international format, never used by another call in this process. */
export function newPhones(n: number): string[] {
  const block = `${process.pid % 1000}${String(phoneBlock++).padStart(3, '0')}`;
  return Array.from({ length: n }, (_, i) => `+97253${block}${String(i).padStart(4, '0')}`);
}

/** Another line of the account, on the simulator, sending at most `ratePerSecond`. */
export async function addLine(js: JourneyStack, owner: TestAccount, ratePerSecond = 80): Promise<{ id: string; phoneNumberId: string }> {
  const phoneNumberId = `2000${process.pid}${lineSeq++}${Date.now() % 100000}`;
  const created = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId, wabaId: '2000001', accessToken: js.sim.accessToken });
  if (created.status !== 201) throw new Error(`line setup failed: ${created.status} ${JSON.stringify(created.body)}`);
  if (ratePerSecond !== 80) {
    const updated = await owner.agent.put(`/api/settings/whatsapp/${created.body.id}`).send({ ratePerSecond });
    if (updated.status !== 200) throw new Error(`line rate failed: ${updated.status} ${JSON.stringify(updated.body)}`);
  }
  return { id: created.body.id, phoneNumberId };
}

export async function campaignOf(account: TestAccount, id: string): Promise<CampaignView> {
  const res = await account.agent.get(`/api/campaigns/${id}`);
  if (res.status !== 200) throw new Error(`GET /api/campaigns/${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CampaignView;
}

export const waitForCampaign = (account: TestAccount, id: string, done: (c: CampaignView) => boolean, what: string, timeoutMs = 60_000) =>
  eventually(async () => {
    const c = await campaignOf(account, id);
    return done(c) ? c : undefined;
  }, what, timeoutMs);

/** How many messages each recipient got from the simulator's point of view. */
export async function messagesPerRecipient(js: JourneyStack, phoneNumberId?: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of await js.sim.messages(phoneNumberId ? { phoneNumberId } : {})) counts.set(m.waId, (counts.get(m.waId) ?? 0) + 1);
  return counts;
}

/** Recipients (of `phones`) who got no message, and those who got more than one. */
export async function deliveryGaps(js: JourneyStack, phones: string[], phoneNumberId?: string): Promise<{ missing: string[]; duplicated: string[] }> {
  const counts = await messagesPerRecipient(js, phoneNumberId);
  const digits = phones.map((p) => p.replace(/\D/g, ''));
  return { missing: digits.filter((d) => !counts.has(d)), duplicated: digits.filter((d) => (counts.get(d) ?? 0) > 1) };
}

/** The pacing of one line's sends, as the simulator received them. */
export async function linePacing(js: JourneyStack, phoneNumberId: string, configuredPerSecond: number): Promise<PacingReport> {
  const messages = await js.sim.messages({ phoneNumberId });
  return pacingOf(messages.map((m) => Date.parse(m.receivedAt)), configuredPerSecond);
}
