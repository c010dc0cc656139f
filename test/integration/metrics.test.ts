import type { AddressInfo } from 'node:net';
import { createWhatsAppClient } from '../../activities/channels/whatsapp';
import { sendMessageActivity } from '../../activities/journey/send-message';
import { upsertConversation } from '../../core/conversations/store';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { createRegistry, inboxMetrics, sendMetrics } from '../../core/metrics/registry';
import { serveMetrics } from '../../workers/metrics-server';
import { openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { openTestStack } from '../support/stack';
import { signedInAccount } from '../support/accounts';

let js: JourneyStack;
beforeAll(async () => {
  js = await openJourneyStack();
}, 60_000);
afterAll(async () => js?.close());

describe('GET /metrics on the API', () => {
  it('counts requests by route template and status, times them, and reports the webhook inbox', async () => {
    await js.owner.agent.get('/api/users/00000000-0000-4000-8000-000000000001');
    await js.owner.agent.get('/api/users/00000000-0000-4000-8000-000000000002');
    const res = await js.stack.http().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toMatch(/flowbot_http_requests_total\{method="GET",route="\/api\/users\/:id",status="404",process="api"\} 2/);
    expect(text).not.toContain('00000000-0000-4000-8000-000000000001');
    expect(text).toMatch(/flowbot_http_request_duration_seconds_bucket\{le="0.5",process="api",method="GET",route="\/api\/users\/:id"\} 2/);
    expect(text).toMatch(/flowbot_webhook_inbox_depth\{process="api"\} \d+/);
    expect(text).toMatch(/flowbot_webhook_inbox_oldest_age_seconds\{process="api"\} \d+/);
    expect(text).toMatch(/flowbot_process_resident_memory_bytes\{process="api"\} \d+/);
  });

  it('asks for METRICS_TOKEN when one is configured', async () => {
    const closed = await openTestStack({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await closed.http().get('/metrics')).status).toBe(401);
      expect((await closed.http().get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789')).status).toBe(401);
      expect((await closed.http().get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789')).status).toBe(200);
    } finally {
      await closed.close();
    }
  });
});

describe('worker metrics', () => {
  it('counts sends by line and outcome, and a retried send as a duplicate, not a second send', async () => {
    const registry = createRegistry('worker');
    const send = sendMessageActivity({
      orm: js.stack.orm,
      box: secretBoxFor(js.stack.deps.config),
      whatsapp: createWhatsAppClient({ graphUrl: js.sim.url, apiVersion: 'v25.0' }),
      sends: sendMetrics(registry),
      tenantFetch: fetch,
    });
    const key = { tenantId: js.owner.user.tenantId, channel: 'whatsapp' as const, lineId: js.line.id, contact: '972599000001' };
    await upsertConversation(js.stack.orm.em.fork(), key);
    await js.stack.orm.em.getConnection().execute(`update conversations set last_customer_message_at = now() where contact = ?`, [key.contact]);
    const message = { type: 'text' as const, text: 'counted' };
    await send({ key, idempotencyKey: `metrics-${Date.now()}`, message });
    const again = `metrics-again-${Date.now()}`;
    await send({ key, idempotencyKey: again, message });
    await send({ key, idempotencyKey: again, message });
    const text = await registry.metrics();
    expect(text).toContain(`flowbot_channel_sends_total{channel="whatsapp",line="${js.line.phoneNumberId}",outcome="sent",process="worker"} 2`);
    expect(text).toContain(`flowbot_channel_sends_total{channel="whatsapp",line="${js.line.phoneNumberId}",outcome="duplicate",process="worker"} 1`);
    expect(await js.sim.messages({ to: key.contact })).toHaveLength(2);
  });

  it('serves its registry, with the inbox gauges, on its own port', async () => {
    const registry = createRegistry('worker');
    inboxMetrics(registry, () => js.stack.orm.em.fork());
    const server = await serveMetrics(registry, 0);
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/flowbot_webhook_inbox_depth\{process="worker"\} \d+/);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});

it('keeps the number of series bounded whatever paths callers send', async () => {
  const stack = await openTestStack();
  try {
    const owner = await signedInAccount(stack);
    for (let i = 0; i < 5; i++) await owner.agent.get(`/api/no-such-thing-${i}`);
    const text = (await stack.http().get('/metrics')).text;
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).not.toContain('no-such-thing');
  } finally {
    await stack.close();
  }
});
