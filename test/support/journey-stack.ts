import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import { createWorker } from '../../workers/worker';
import { runInboxDispatcher } from '../../workers/inbox-dispatcher';
import { journeyInboxHandlers } from '../../workers/handlers';
import { openTestStack, type TestStack } from './stack';
import { startWhatsAppSimulator, type SimulatorProcess } from './whatsapp-simulator-process';
import { signedInAccount, type TestAccount } from './accounts';

export interface JourneyStack {
  stack: TestStack;
  sim: SimulatorProcess;
  owner: TestAccount;
  line: { id: string; phoneNumberId: string };
  apiUrl: string;
  close(): Promise<void>;
}

export interface JourneyStackOptions {
  /** Run the Temporal worker in this process (default); false for a test that runs its own worker processes. */
  worker?: boolean;
}

let phoneCounter = 0;

/**
 * Everything a journey needs, for real: the API listening on a port (the simulator posts signed webhooks
 * to it), the WhatsApp simulator as its own process, a Temporal worker and the inbox dispatcher, and a
 * tenant with a line whose token the simulator accepts.
 */
export async function openJourneyStack(opts: JourneyStackOptions = {}): Promise<JourneyStack> {
  const appSecret = 'journey-app-secret';
  // The API's port is known before the app exists: the simulator posts webhooks to it, and the API (template
  // management) calls the simulator as its Graph API.
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sim = await startWhatsAppSimulator({ webhookUrl: `${apiUrl}/api/webhook/whatsapp`, appSecret });
  const stack = await openTestStack({ META_APP_SECRET: appSecret, WHATSAPP_GRAPH_URL: sim.url });
  handle = stack.app.callback();

  const logger = pino({ level: 'silent' });
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const config = { ...stack.deps.config, whatsapp: { ...stack.deps.config.whatsapp, graphUrl: sim.url } };
  const worker: Worker | undefined = opts.worker === false ? undefined : await createWorker({ config, orm: stack.orm, logger, connection });
  const running = worker?.run();
  const stopDispatcher = new AbortController();
  const dispatcher = runInboxDispatcher({
    orm: stack.orm,
    logger,
    handlers: journeyInboxHandlers({ orm: stack.orm, temporal: stack.temporal }),
    signal: stopDispatcher.signal,
    pollIntervalMs: 20,
    baseBackoffMs: 100,
  });

  const owner = await signedInAccount(stack);
  const phoneNumberId = `1000${process.pid}${phoneCounter++}${Date.now() % 100000}`;
  const created = await owner.agent
    .post('/api/settings/whatsapp')
    .send({ phoneNumberId, wabaId: '2000001', displayPhoneNumber: '+15550001111', accessToken: sim.accessToken, verifyToken: 'verify-me' });
  if (created.status >= 300) throw new Error(`line setup failed: ${created.status} ${JSON.stringify(created.body)}`);
  const lineId = created.body.id ?? created.body.line?.id;

  return {
    stack,
    sim,
    owner,
    line: { id: lineId, phoneNumberId },
    apiUrl,
    async close() {
      stopDispatcher.abort();
      await dispatcher;
      worker?.shutdown();
      await running;
      await connection.close();
      await sim.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
    },
  };
}

/** Polls until `check` returns a value, or fails with the last value seen. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type Agent = ReturnType<typeof request.agent>;
