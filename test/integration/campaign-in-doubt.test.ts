import { createHmac, randomUUID } from 'node:crypto';
import { campaignActivities } from '../../activities/campaign';
import type { OutboundSend } from '../../core/journey/types';
import { upsertConversation } from '../../core/conversations/store';
import { newPhones } from '../support/campaigns';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The sends a killed worker leaves half-done, one by one and deterministically (the SIGKILL test shows the
 * same end to end): the page activity runs here with a stand-in send that records what it is asked to send.
 */
let js: JourneyStack;
beforeAll(async () => {
  js = await openJourneyStack({ worker: false });
}, 60_000);
afterAll(async () => js?.close());

const conn = () => js.stack.orm.em.getConnection();

/** A running campaign of the owner's line, written straight to the tables (no workflow runs it here). */
async function campaignWith(contacts: string[]): Promise<{ id: string; recipients: Record<string, string> }> {
  const id = randomUUID();
  const tenantId = js.owner.user.tenantId;
  await conn().execute(
    `insert into campaigns (id, tenant_id, line_id, name, message, recipient_count, workflow_id) values (?, ?, ?, 'doubts', ?, ?, ?)`,
    [id, tenantId, js.line.id, JSON.stringify({ type: 'template', name: 'spring_sale', language: 'en', params: [] }), contacts.length, `campaign/${tenantId}/${id}`],
  );
  const rows = await conn().execute<Array<{ id: string; contact: string }>>(
    `insert into campaign_recipients (campaign_id, tenant_id, contact) select ?, ?, unnest(string_to_array(?, ',')) returning id, contact`,
    [id, tenantId, contacts.join(',')],
  );
  return { id, recipients: Object.fromEntries(rows.map((r) => [r.contact, r.id])) };
}

/** What a worker killed mid-send leaves: the recipient claimed, its message row written, `attempts` provider calls begun. */
async function leftSending(campaignId: string, recipientId: string, contact: string, attempts: number): Promise<string> {
  const key = { tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact };
  const conversation = await upsertConversation(js.stack.orm.em.fork(), key);
  const messageId = randomUUID();
  await conn().execute(
    `insert into messages (id, tenant_id, conversation_id, direction, type, payload, status, idempotency_key, attempts) values (?, ?, ?, 'out', 'template', '{}', 'queued', ?, ?)`,
    [messageId, key.tenantId, conversation.id, `campaign/${campaignId}/${recipientId}`, attempts],
  );
  await conn().execute(`update campaign_recipients set state = 'sending', attempts = 1 where id = ?`, [recipientId]);
  return messageId;
}

/** Meta's `sent` status for a message id we never stored, signed as Meta signs it. */
async function statusWebhook(contact: string, wamid: string): Promise<void> {
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '2000001', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: js.line.phoneNumberId }, statuses: [{ id: wamid, status: 'sent', timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: contact }] } }] }],
  });
  const signature = `sha256=${createHmac('sha256', js.sim.appSecret).update(body).digest('hex')}`;
  const res = await js.stack.http().post('/api/webhook/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signature).send(body);
  expect(res.status).toBe(200);
}

function recordingSend() {
  const sent: string[] = [];
  const send = async (input: OutboundSend) => {
    sent.push(input.key.contact);
    return { messageId: randomUUID(), providerMessageId: `wamid.${randomUUID()}` };
  };
  return { sent, activities: campaignActivities({ orm: js.stack.orm, sendMessage: send }) };
}

const stateOf = async (recipientId: string) =>
  (await conn().execute<Array<{ state: string }>>(`select state from campaign_recipients where id = ?`, [recipientId]))[0].state;

describe('sends a killed worker left half-done', () => {
  it('settles a send the provider accepted by its status webhook, and never sends it again', async () => {
    const [accepted] = newPhones(1).map((p) => p.slice(1));
    const { id, recipients } = await campaignWith([accepted]);
    const messageId = await leftSending(id, recipients[accepted], accepted, 1);

    await statusWebhook(accepted, 'wamid.adopted-after-a-crash');
    await eventually(async () => {
      const [m] = await conn().execute<Array<{ provider_message_id: string | null }>>(`select provider_message_id from messages where id = ?`, [messageId]);
      return m.provider_message_id === 'wamid.adopted-after-a-crash' ? true : undefined;
    }, 'the status to name the message');

    const { sent, activities } = recordingSend();
    const page = await activities.runCampaignPage({ campaignId: id, maxRecipients: 100, concurrency: 4 });
    expect(sent).toEqual([]);
    expect(page).toMatchObject({ claimed: 0, remaining: 0, unsettled: 0 });
    expect(await stateOf(recipients[accepted])).toBe('sent');
  });

  it('holds a send that may have gone out until the grace runs out, then sends it once; sends one never begun at once', async () => {
    const [doubtful, neverBegun] = newPhones(2).map((p) => p.slice(1));
    const { id, recipients } = await campaignWith([doubtful, neverBegun]);
    await leftSending(id, recipients[doubtful], doubtful, 1);
    await leftSending(id, recipients[neverBegun], neverBegun, 0);

    const { sent, activities } = recordingSend();
    const first = await activities.runCampaignPage({ campaignId: id, maxRecipients: 100, concurrency: 4 });
    expect(sent).toEqual([neverBegun]);
    expect(first).toMatchObject({ sent: 1, remaining: 0, unsettled: 1 });
    expect(await stateOf(recipients[doubtful])).toBe('in_doubt');

    // No word from the provider within the grace: it did not go out after all.
    expect(await activities.settleCampaignSends({ campaignId: id, graceMs: 60_000 })).toEqual({ unsettled: 1 });
    expect(await activities.settleCampaignSends({ campaignId: id, graceMs: 0 })).toEqual({ unsettled: 0 });
    const second = await activities.runCampaignPage({ campaignId: id, maxRecipients: 100, concurrency: 4 });
    expect(sent).toEqual([neverBegun, doubtful]);
    expect(second).toMatchObject({ sent: 1, remaining: 0, unsettled: 0 });
  });

  it('does not guess when two sends to the contact are in flight: the status settles neither', async () => {
    const [contact] = newPhones(1).map((p) => p.slice(1));
    const a = await campaignWith([contact]);
    const b = await campaignWith([contact]);
    const ma = await leftSending(a.id, a.recipients[contact], contact, 1);
    const mb = await leftSending(b.id, b.recipients[contact], contact, 1);
    await statusWebhook(contact, 'wamid.whose-is-it');
    // The dispatcher retries a status it cannot place; give it a few rounds.
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await conn().execute<Array<{ provider_message_id: string | null }>>(`select provider_message_id from messages where id in (?, ?)`, [ma, mb]);
    expect(rows.map((r) => r.provider_message_id)).toEqual([null, null]);
  });
});
