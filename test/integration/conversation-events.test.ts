import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedInAccount, uniqueIp } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';
import { openTestStack } from '../support/stack';

/**
 * The inbox's live feed (GET /api/conversations/events, Server-Sent Events) and the simulator's customer
 * (POST /api/simulator/inbound), against the real stack: the API listening on a port, PostgreSQL, Temporal with
 * a worker, and the WhatsApp simulator as its own process.
 */

let js: JourneyStack;
beforeAll(async () => {
  js = await openJourneyStack();
}, 90_000);
afterAll(async () => js?.close());

let seq = 0;
const newPhone = () => `97254${String(Date.now() % 1_000_000).padStart(6, '0')}${seq++}`;

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Signs in over HTTP, as a browser does, and answers the session cookie. */
async function sessionCookie(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

/** Opens the stream and collects its events until closed. */
async function openStream(baseUrl: string, cookie: string) {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/api/conversations/events`, { headers: { cookie, accept: 'text/event-stream' }, signal: abort.signal });
  const events: SseEvent[] = [];
  const raw: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const ended = (async () => {
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          raw.push(block);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  await eventually(async () => events.some((e) => e.event === 'ready'), 'the ready event', 5000);
  return { res, events, raw, ended, close: () => abort.abort() };
}

describe('GET /api/conversations/events', () => {
  it('is a text/event-stream that pushes a new inbound message and the delivery ticks of the reply, within seconds', async () => {
    const cookie = await sessionCookie(js.apiUrl, js.owner.user.username, js.owner.password);
    const stream = await openStream(js.apiUrl, cookie);
    try {
      expect(stream.res.status).toBe(200);
      expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.res.headers.get('cache-control')).toBe('no-store');
      expect(stream.raw[0]).toBe('retry: 3000');

      const phone = newPhone();
      const sent = await js.owner.agent.post('/api/simulator/inbound').send({ phoneNumberId: js.line.phoneNumberId, from: `+${phone}`, name: 'Noa', text: 'Is anyone there?' });
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({ success: true, wamid: expect.any(String) });

      const inbound = await eventually(
        async () => stream.events.find((e) => e.event === 'message' && e.data.direction === 'in'),
        'the inbound message on the stream',
        10_000,
      );
      const conversationId = inbound.data.conversationId as string;
      expect(inbound.data).toEqual({ id: expect.any(String), conversationId, direction: 'in', status: 'received', campaignId: null, updatedAt: expect.any(String) });
      await eventually(async () => stream.events.some((e) => e.event === 'conversation' && e.data.id === conversationId), 'the conversation change', 10_000);

      const reply = await js.owner.agent.post(`/api/conversations/${conversationId}/reply`).send({ messageType: 'text', text: 'Yes, right here.' });
      expect(reply.status).toBe(200);
      // The simulator reports sent, delivered and read; each tick reaches the stream.
      await eventually(
        async () => stream.events.some((e) => e.event === 'message' && e.data.conversationId === conversationId && e.data.direction === 'out' && e.data.status === 'read'),
        'the read tick on the stream',
        15_000,
      );
    } finally {
      stream.close();
    }
  });

  it("never carries another tenant's changes", async () => {
    const outsider = await signedInAccount(js.stack);
    const theirs = await openStream(js.apiUrl, await sessionCookie(js.apiUrl, outsider.user.username, outsider.password));
    const ours = await openStream(js.apiUrl, await sessionCookie(js.apiUrl, js.owner.user.username, js.owner.password));
    try {
      const res = await js.owner.agent.post('/api/simulator/inbound').send({ phoneNumberId: js.line.phoneNumberId, from: newPhone(), text: 'only for my tenant' });
      expect(res.status).toBe(200);
      await eventually(async () => ours.events.some((e) => e.event === 'message'), 'the change on the owner tenant stream', 10_000);
      // The feed hands out both tenants' changes from the same look: the outsider's stream has had its chance.
      await new Promise((r) => setTimeout(r, 1500));
      expect(theirs.events.map((e) => e.event)).toEqual(['ready']);
    } finally {
      theirs.close();
      ours.close();
    }
  });

  it('answers 401 without a session or token', async () => {
    const res = await fetch(`${js.apiUrl}/api/conversations/events`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });

  it("ends its streams when the server shuts down, so the server's close() does not wait on them", async () => {
    const server = http.createServer(js.stack.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stream = await openStream(url, await sessionCookie(url, js.owner.user.username, js.owner.password));
    const started = Date.now();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the simulated customer (POST /api/simulator/inbound)', () => {
  it('is available when the API sends to the WhatsApp simulator', async () => {
    const res = await js.owner.agent.get('/api/simulator');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ available: true });
  });

  it("refuses a line that is not the caller's, as if it did not exist", async () => {
    const outsider = await signedInAccount(js.stack);
    const res = await outsider.agent.post('/api/simulator/inbound').send({ phoneNumberId: js.line.phoneNumberId, from: newPhone(), text: 'hi' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/phone number id/);
  });

  it('checks the body: exactly one of text, buttonReply or listReply, and a phone number', async () => {
    const both = await js.owner.agent.post('/api/simulator/inbound').send({ phoneNumberId: js.line.phoneNumberId, from: newPhone(), text: 'a', buttonReply: { id: 'x', title: 'X' } });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/exactly one of text, buttonReply or listReply/);
    const badPhone = await js.owner.agent.post('/api/simulator/inbound').send({ phoneNumberId: js.line.phoneNumberId, from: 'call me', text: 'a' });
    expect(badPhone.status).toBe(400);
    expect(badPhone.body.error).toMatch(/^Invalid body: from:/);
  });

  it('is not available when WhatsApp is not the simulator, and then refuses with 409 in words', async () => {
    const plain = await openTestStack({ WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9' });
    try {
      const owner = await signedInAccount(plain);
      const state = await owner.agent.get('/api/simulator');
      expect(state.status).toBe(200);
      expect(state.body).toEqual({ available: false, reason: expect.stringContaining('does not answer') });
      const phoneNumberId = `77${Date.now() % 1_000_000_000}`;
      const line = await owner.agent.post('/api/settings/whatsapp').send({ phoneNumberId, wabaId: '2000002', accessToken: 'any-token-at-all' });
      expect(line.status).toBeLessThan(300);
      const res = await owner.agent.post('/api/simulator/inbound').send({ phoneNumberId, from: newPhone(), text: 'hi' });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/simulator/);
    } finally {
      await plain.close();
    }
  });
});
