import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { clientFor, providerFailure } from '../../activities/ai/provider-client';
import { sendSms } from '../../activities/channels/sms/twilio-client';
import { callHttpActivity } from '../../activities/journey/call-http';
import { ChannelSendError } from '../../core/channels/errors';
import { loadConfig } from '../../core/config';
import { isNonPublicAddress, outboundFetch, refusalBehind, type OutboundPolicy } from '../../core/net/outbound-guard';

let server: http.Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    if (req.url === '/redirect-to-literal') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
      return;
    }
    if (req.url?.startsWith('/v1/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => void (hits.length = 0));

const deny: OutboundPolicy = { allowPrivateNetworks: false, allowedHosts: [] };

async function refusalOf(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return refusalBehind(err);
}

describe('the outbound policy for URLs tenants choose', () => {
  it('knows which addresses are not the public internet', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::ffff:127.0.0.1', 'fd00::1', 'fe80::1']) {
      expect([a, isNonPublicAddress(a)]).toEqual([a, true]);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111']) expect([a, isNonPublicAddress(a)]).toEqual([a, false]);
  });

  it('refuses a literal private address and a name that resolves to one, before anything is sent', async () => {
    const guarded = outboundFetch(deny);
    expect((await refusalOf(guarded(`http://127.0.0.1:${port}/ok`)))?.message).toMatch(/127\.0\.0\.1 is a private or reserved address/);
    expect((await refusalOf(guarded(`http://localhost:${port}/ok`)))?.message).toMatch(/localhost is a private or reserved address/);
    expect(hits).toEqual([]);
  });

  it('lets listed hosts through, but not a redirect from them to an unlisted private address', async () => {
    const guarded = outboundFetch({ allowPrivateNetworks: false, allowedHosts: ['localhost'] });
    const res = await guarded(`http://localhost:${port}/ok`);
    expect(await res.json()).toEqual({ ok: true });
    expect(await refusalOf(guarded(`http://localhost:${port}/redirect-to-literal`))).toBeDefined();
    expect(hits).toEqual(['/ok', '/redirect-to-literal']);
  });

  it('allows private networks when the installation says so (the default outside production)', async () => {
    const res = await outboundFetch({ allowPrivateNetworks: true, allowedHosts: [] })(`http://127.0.0.1:${port}/ok`);
    expect(res.status).toBe(200);
    expect(loadConfig({}).outbound).toEqual({ allowPrivateNetworks: true, allowedHosts: [] });
    expect(loadConfig({ NODE_ENV: 'production' }).outbound.allowPrivateNetworks).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true', OUTBOUND_ALLOWED_HOSTS: ' CRM.internal, ollama ' }).outbound).toEqual({
      allowPrivateNetworks: true,
      allowedHosts: ['crm.internal', 'ollama'],
    });
  });

  it('gives a flow\'s HTTP request node a refused URL as its error result, not a retry', async () => {
    const callHttp = callHttpActivity({ fetch: outboundFetch(deny) });
    const result = await callHttp({ method: 'POST', url: `http://127.0.0.1:${port}/ok`, headers: {}, body: '{}', timeoutSeconds: 5 });
    expect(result).toEqual({ ok: false, status: 0, data: { error: expect.stringMatching(/private or reserved address/) } });
    expect(hits).toEqual([]);
    const allowed = callHttpActivity({ fetch: outboundFetch({ allowPrivateNetworks: false, allowedHosts: ['127.0.0.1'] }) });
    expect(await allowed({ method: 'GET', url: `http://127.0.0.1:${port}/ok`, headers: {}, timeoutSeconds: 5 })).toEqual({ ok: true, status: 200, data: { ok: true } });
  });

  it("refuses an account's SMS provider on a private address as a definitive error, which no retry would change", async () => {
    const err = await sendSms({
      fetch: outboundFetch(deny),
      baseUrl: `http://127.0.0.1:${port}`,
      accountSid: 'AC00000000000000000000000000000000',
      authToken: 'token',
      to: '+15550001111',
      from: { number: '+15550002222' },
      body: 'hello',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChannelSendError);
    expect(err).toMatchObject({ errorClass: 'definitive', retryable: false, message: expect.stringMatching(/SMS send: 127\.0\.0\.1 is a private or reserved address/) });
    expect(hits).toEqual([]);
  });

  it("refuses an account's own AI provider on a private address for good, while the installation's provider is the operator's to choose", async () => {
    const tenantFetch = outboundFetch(deny);
    const own = { providerId: 'p1', name: 'own', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'k', model: 'm' };
    const err = await clientFor(own, { timeoutMs: 5000, tenantFetch })
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const failure = providerFailure(err, own);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/cannot be called: 127\.0\.0\.1 is a private or reserved address/);
    expect(hits).toEqual([]);

    const installation = { ...own, providerId: null };
    const answer = await clientFor(installation, { timeoutMs: 5000, tenantFetch }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('hi');
  });
});
