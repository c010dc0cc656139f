import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import type { CodeSender } from '../../activities/notify/code-sender';
import { verificationActivities } from '../../activities/notify/verification';
import { buildApp } from '../../api/app';
import { createAccount } from '../../core/auth/users';
import { User, VerificationCode } from '../../core/db/entities';
import { newId } from '../../core/ids';
import { createWorker } from '../../workers/worker';
import { uniqueIp, uniqueName } from '../support/accounts';
import { freePort } from '../support/free-port';
import { openTestStack, type TestStack } from '../support/stack';

type SentMessage = Parameters<CodeSender['send']>[0];

/** Stands in for the e-mail / WhatsApp provider: it keeps every message it is asked to deliver. */
function recordingSender(): CodeSender & { sent: SentMessage[] } {
  const sent: SentMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
    },
  };
}

const provider = recordingSender();
let stack: TestStack;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  stack = await openTestStack();
  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  worker = await createWorker({
    config: stack.deps.config,
    orm: stack.orm,
    logger: pino({ level: 'silent' }),
    connection,
    // The worker's own verification activities, delivering through the recording provider.
    activities: verificationActivities({ orm: stack.orm, sender: provider }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await stack?.close();
});

const uniqueEmail = () => `${uniqueName('verify')}@example.test`;
const uniquePhone = () => `+9725${String(randomInt(0, 1e8)).padStart(8, '0')}`;
const messagesTo = (destination: string) => provider.sent.filter((m) => m.destination === destination);

/** Asks for a code the way a client does, then waits for the provider to receive it. */
async function requestCode(body: Record<string, string>, destination: string) {
  const before = messagesTo(destination).length;
  const res = await stack.http().post('/api/auth/send-verification').set('X-Forwarded-For', uniqueIp()).send(body);
  expect(res.status).toBe(202);
  const deadline = Date.now() + 20_000;
  while (messagesTo(destination).length === before) {
    if (Date.now() > deadline) throw new Error(`no code reached ${destination}`);
    await sleep(25);
  }
  const message = messagesTo(destination).at(-1)!;
  return { res, message, code: message.code, verificationId: res.body.verificationId as string };
}

const verify = (body: Record<string, string>, ip = uniqueIp()) =>
  stack.http().post('/api/auth/verify-code').set('X-Forwarded-For', ip).send(body);

const otherCode = (code: string) => (code === '000000' ? '111111' : '000000');

const reloadUser = (id: string) => stack.orm.em.fork().findOneOrFail(User, { id });
const reloadCode = (id: string) => stack.orm.em.fork().findOneOrFail(VerificationCode, { id });

describe('send-verification and verify-code', () => {
  it('delivers an e-mail code that verifies the account owning the address', async () => {
    const username = uniqueName('vera');
    const address = `${username}@example.test`;
    const user = await createAccount(stack.orm.em.fork(), { username, password: 'password123', email: address });

    const { res, message, code, verificationId } = await requestCode({ channel: 'email', destination: address.toUpperCase() }, address);
    expect(res.body).toEqual({ success: true, verificationId: expect.any(String), expiresInSec: 600, message: expect.stringMatching(/e-mail/) });
    expect(message).toMatchObject({ channel: 'email', destination: address });
    expect(code).toMatch(/^\d{6}$/);
    expect(message.text).toContain(code);
    const row = await reloadCode(verificationId);
    expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.codeHash).not.toContain(code);

    expect((await reloadUser(user.id)).emailVerifiedAt).toBeNull();
    const ok = await verify({ verificationId, destination: address, code });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ success: true, verified: true });
    const after = await reloadUser(user.id);
    expect(after.emailVerifiedAt).toBeInstanceOf(Date);
    expect(after.phoneVerifiedAt).toBeNull();
  });

  it('sends by WhatsApp for the {phone} shorthand and verifies the phone of the account', async () => {
    const number = uniquePhone();
    const user = await createAccount(stack.orm.em.fork(), { username: uniqueName('phil'), password: 'password123', phone: number.slice(1) });
    const spaced = `${number.slice(0, 4)} ${number.slice(4, 6)}-${number.slice(6)}`;
    const { message, code } = await requestCode({ phone: spaced }, number);
    expect(message.channel).toBe('whatsapp');

    const ok = await verify({ destination: number.slice(1), code });
    expect(ok.status).toBe(200);
    const after = await reloadUser(user.id);
    expect(after.phoneVerifiedAt).toBeInstanceOf(Date);
    expect(after.emailVerifiedAt).toBeNull();
  });

  it('accepts a code only once', async () => {
    const address = uniqueEmail();
    const { code } = await requestCode({ email: address }, address);
    expect((await verify({ destination: address, code })).status).toBe(200);
    const again = await verify({ destination: address, code });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatch(/already been used/);
  });

  it('counts wrong tries and locks the code after the limit, even against the right code', async () => {
    const maxTries = stack.deps.config.verification.maxTries;
    expect(maxTries).toBe(5);
    const address = uniqueEmail();
    const { code, verificationId } = await requestCode({ email: address }, address);
    const ip = uniqueIp();
    for (let tries = 1; tries < maxTries; tries++) {
      const wrong = await verify({ destination: address, code: otherCode(code) }, ip);
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe(`Wrong code: ${maxTries - tries} ${maxTries - tries === 1 ? 'try' : 'tries'} left`);
      expect((await reloadCode(verificationId)).tries).toBe(tries);
    }
    const last = await verify({ destination: address, code: otherCode(code) }, ip);
    expect(last.status).toBe(429);
    expect(last.body.error).toMatch(/too many wrong tries/);
    const right = await verify({ destination: address, code }, ip);
    expect(right.status).toBe(429);
    expect(right.body.error).toMatch(/no longer works/);
    expect((await reloadCode(verificationId)).tries).toBe(maxTries);
  });

  it('counts parallel guesses one by one, so they cannot share a try', async () => {
    const address = uniqueEmail();
    const { code, verificationId } = await requestCode({ email: address }, address);
    const guesses = await Promise.all(Array.from({ length: 12 }, () => verify({ destination: address, code: otherCode(code) })));
    const statuses = guesses.map((g) => g.status).sort();
    expect(statuses).toEqual([...Array(4).fill(400), ...Array(8).fill(429)]);
    expect((await reloadCode(verificationId)).tries).toBe(5);
  });

  it('refuses an expired code', async () => {
    const address = uniqueEmail();
    const { code, verificationId } = await requestCode({ email: address }, address);
    const em = stack.orm.em.fork();
    const row = await em.findOneOrFail(VerificationCode, { id: verificationId });
    row.expiresAt = new Date(Date.now() - 1000);
    await em.flush();
    const res = await verify({ destination: address, code });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/expired/);
  });

  it('accepts only the latest code sent to a destination', async () => {
    const address = uniqueEmail();
    const first = await requestCode({ email: address }, address);
    const second = await requestCode({ email: address }, address);
    expect(second.verificationId).not.toBe(first.verificationId);
    if (first.code !== second.code) expect((await verify({ destination: address, code: first.code })).status).toBe(400);
    const stale = await verify({ verificationId: first.verificationId, destination: address, code: second.code });
    expect(stale.status).toBe(400);
    expect(stale.body.error).toMatch(/newer code/);
    expect((await verify({ destination: address, code: second.code })).status).toBe(200);
  });

  it('answers 400 naming the field when the destination does not fit the channel', async () => {
    const send = (body: unknown) => stack.http().post('/api/auth/send-verification').set('X-Forwarded-For', uniqueIp()).send(body as object);
    const phoneAsEmail = await send({ channel: 'email', destination: '+972501234567' });
    expect(phoneAsEmail.status).toBe(400);
    expect(phoneAsEmail.body.error).toMatch(/destination: must be a valid e-mail address/);
    const textAsPhone = await send({ channel: 'whatsapp', destination: 'call me maybe' });
    expect(textAsPhone.status).toBe(400);
    expect(textAsPhone.body.error).toMatch(/destination: must be a phone number in international format/);
    expect((await send({ email: 'not-an-address' })).status).toBe(400);
    expect((await send({ channel: 'sms', destination: '+972501234567' })).body.error).toMatch(/channel/);
    expect((await send({})).body.error).toMatch(/destination: is required/);

    const badCode = await verify({ destination: uniqueEmail(), code: '12ab' });
    expect(badCode.status).toBe(400);
    expect(badCode.body.error).toMatch(/code: must be the 6-digit code/);
    expect((await verify({ destination: 'nobody', code: '123456' })).body.error).toMatch(/destination/);
  });

  it('sends at most 5 codes per destination in 15 minutes, whichever IP asks', async () => {
    const address = uniqueEmail();
    const send = (ip: string) => stack.http().post('/api/auth/send-verification').set('X-Forwarded-For', ip).send({ email: address });
    for (let i = 0; i < 5; i++) expect((await send(uniqueIp())).status).toBe(202);
    const limited = await send(uniqueIp());
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/Too many requests/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const otherAddress = await stack.http().post('/api/auth/send-verification').set('X-Forwarded-For', uniqueIp()).send({ email: uniqueEmail() });
    expect(otherAddress.status).toBe(202);
  });

  it('limits the requests of one IP across destinations', async () => {
    const ip = uniqueIp();
    const { max } = stack.deps.config.authRateLimit;
    const send = () => stack.http().post('/api/auth/send-verification').set('X-Forwarded-For', ip).send({ email: uniqueEmail() });
    for (let i = 0; i < max; i++) expect((await send()).status).toBe(202);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/Too many requests/);
  });

  it('does not send a second code when the delivery activity is retried', async () => {
    const em = stack.orm.em.fork();
    const id = newId();
    em.create(VerificationCode, { id, channel: 'email', destination: uniqueEmail(), expiresAt: new Date(Date.now() + 60_000) });
    await em.flush();
    const sender = recordingSender();
    const { deliverVerificationCode } = verificationActivities({ orm: stack.orm, sender });
    expect(await deliverVerificationCode(id)).toBe('sent');
    expect(await deliverVerificationCode(id)).toBe('already-sent');
    expect(sender.sent).toHaveLength(1);
  });

  it('answers 503 and keeps no code when Temporal is unreachable', async () => {
    const down = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const temporal = { ...stack.temporal, connection: down, client: new Client({ connection: down, namespace: stack.temporal.namespace }) };
    const { app } = buildApp({ ...stack.deps, temporal });
    const address = uniqueEmail();
    const res = await request(app.callback()).post('/api/auth/send-verification').set('X-Forwarded-For', uniqueIp()).send({ email: address });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/workflow service is unavailable/);
    expect(await stack.orm.em.fork().count(VerificationCode, { destination: address })).toBe(0);
    await down.close();
  });
});
