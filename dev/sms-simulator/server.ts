import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { signTwilioRequest } from './signing';
import { listen } from '../simulators/serve';

/**
 * A local stand-in for Twilio's Programmable Messaging API (the wire format many SMS providers speak), for
 * development and tests: POST/GET /2010-04-01/Accounts/{sid}/Messages.json with HTTP Basic auth, answered in
 * Twilio's JSON shapes, and signed status callbacks (queued → sent → delivered, or → failed) posted to each
 * message's StatusCallback. A control API under /_sim/ lists what it accepted and injects failures.
 */

export interface SmsSimulatorOptions {
  port?: number;
  host?: string;
  /** The accounts it accepts: account SID → auth token. */
  accounts: Record<string, string>;
  /** Pause before each status callback (default 50 ms). */
  callbackDelayMs?: number;
}

export interface SimSms {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  status: string;
  errorCode: number | null;
  statusCallback: string | null;
  dateCreated: string;
  dateSent: string | null;
}

export interface SimCallback {
  url: string;
  params: Record<string, string>;
  status: number;
}

export interface SmsSimulatorConfig {
  /** The next sends fail with these Twilio errors, in order (HTTP status 400 unless given). */
  failNext: Array<{ code: number; status?: number; message?: string }>;
  /** Sends to these numbers (E.164) are accepted, then reported undelivered with this error code. */
  undeliverable: Record<string, number>;
  /** The next N accepted sends get no answer: the connection is dropped after the message was taken. */
  dropAnswers: number;
  callbackDelayMs: number;
}

export interface RunningSmsSimulator {
  url: string;
  port: number;
  messages(filter?: { to?: string }): SimSms[];
  callbacks(): SimCallback[];
  /** Resolves once every status callback due so far was posted. */
  settled(): Promise<void>;
  configure(patch: Partial<SmsSimulatorConfig>): SmsSimulatorConfig;
  reset(): void;
  close(): Promise<void>;
}

const errorMessages: Record<number, string> = {
  20003: 'Authenticate',
  20429: 'Too Many Requests',
  21211: "The 'To' number is not a valid phone number.",
  21602: 'Message body is required.',
  21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
  21614: "The 'To' number is not a valid mobile number.",
};

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
const sidOf = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export async function startSmsSimulator(opts: SmsSimulatorOptions): Promise<RunningSmsSimulator> {
  const initial = (): SmsSimulatorConfig => ({ failNext: [], undeliverable: {}, dropAnswers: 0, callbackDelayMs: opts.callbackDelayMs ?? 50 });
  let config = initial();
  let messages: SimSms[] = [];
  let callbacks: SimCallback[] = [];
  const inFlight = new Set<Promise<void>>();

  const resource = (m: SimSms) => ({
    sid: m.sid,
    account_sid: m.accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: m.dateCreated,
    date_sent: m.dateSent,
    date_updated: m.dateSent ?? m.dateCreated,
    direction: 'outbound-api',
    error_code: m.errorCode,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil(m.body.length / 160))),
    price: null,
    price_unit: 'USD',
    status: m.status,
    to: m.to,
    uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
  });

  const twilioError = (res: http.ServerResponse, status: number, code: number, message?: string) =>
    json(res, status, { code, message: message ?? errorMessages[code] ?? 'Error', more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  async function postCallbacks(m: SimSms): Promise<void> {
    const token = opts.accounts[m.accountSid];
    const failure = config.undeliverable[m.to];
    const steps = failure ? ['queued', 'sent', 'undelivered'] : ['queued', 'sent', 'delivered'];
    for (const status of steps) {
      await new Promise((r) => setTimeout(r, config.callbackDelayMs));
      m.status = status;
      if (status === 'sent') m.dateSent = rfc2822(new Date());
      if (status === 'undelivered') m.errorCode = failure;
      if (!m.statusCallback) continue;
      const params: Record<string, string> = {
        AccountSid: m.accountSid,
        ApiVersion: '2010-04-01',
        From: m.from ?? '',
        MessageSid: m.sid,
        MessageStatus: status,
        SmsSid: m.sid,
        SmsStatus: status,
        To: m.to,
        ...(status === 'undelivered' ? { ErrorCode: String(failure) } : {}),
        ...(m.messagingServiceSid ? { MessagingServiceSid: m.messagingServiceSid } : {}),
      };
      let answered = 0;
      try {
        const res = await fetch(m.statusCallback, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(token, m.statusCallback, params) },
          body: new URLSearchParams(params).toString(),
          signal: AbortSignal.timeout(10_000),
        });
        answered = res.status;
        await res.arrayBuffer();
      } catch {
        answered = 0;
      }
      callbacks.push({ url: m.statusCallback, params, status: answered });
    }
  }

  function track(p: Promise<void>): void {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) return control(url, raw, res);

    const match = url.pathname.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/);
    if (!match) return twilioError(res, 404, 20404, 'The requested resource was not found');
    const accountSid = decodeURIComponent(match[1]);
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
    if (user !== accountSid || opts.accounts[accountSid] === undefined || opts.accounts[accountSid] !== pass) return twilioError(res, 401, 20003);

    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const pageSize = Number(url.searchParams.get('PageSize') ?? 50);
      const list = messages
        .filter((m) => m.accountSid === accountSid && (!to || m.to === to) && (!from || m.from === from))
        .reverse()
        .slice(0, pageSize);
      return json(res, 200, { messages: list.map(resource), page: 0, page_size: pageSize, start: 0, end: Math.max(0, list.length - 1), next_page_uri: null, previous_page_uri: null });
    }
    if (req.method !== 'POST') return twilioError(res, 405, 20004, 'Method not allowed');

    const form = new URLSearchParams(raw);
    const failure = config.failNext.shift();
    if (failure) return twilioError(res, failure.status ?? (failure.code === 20429 ? 429 : 400), failure.code, failure.message);
    const to = form.get('To') ?? '';
    const body = form.get('Body') ?? '';
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!body) return twilioError(res, 400, 21602);
    if (!from && !messagingServiceSid) return twilioError(res, 400, 21603);

    const m: SimSms = {
      sid: sidOf('SM'),
      accountSid,
      to,
      from: from ?? (messagingServiceSid ? '+15005550006' : null),
      messagingServiceSid,
      body,
      status: 'queued',
      errorCode: null,
      statusCallback: form.get('StatusCallback'),
      dateCreated: rfc2822(new Date()),
      dateSent: null,
    };
    messages.push(m);
    track(postCallbacks(m));
    if (config.dropAnswers > 0) {
      config.dropAnswers--;
      req.socket.destroy();
      return;
    }
    return json(res, 201, resource(m));
  }

  function control(url: URL, raw: string, res: http.ServerResponse): void {
    const route = url.pathname.slice('/_sim/'.length);
    if (route === 'messages') return json(res, 200, messages.filter((m) => !url.searchParams.get('to') || m.to === url.searchParams.get('to')));
    if (route === 'callbacks') return json(res, 200, callbacks);
    if (route === 'config') {
      if (raw) config = { ...config, ...(JSON.parse(raw) as Partial<SmsSimulatorConfig>) };
      return json(res, 200, config);
    }
    if (route === 'reset') {
      reset();
      return json(res, 200, { ok: true });
    }
    json(res, 404, { error: `no control route ${route}` });
  }

  function reset(): void {
    config = initial();
    messages = [];
    callbacks = [];
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { code: 20500, message: (err as Error).message, more_info: '', status: 500 }));
  });
  const { url, port, close } = await listen(server, opts);
  return {
    url,
    port,
    messages: (filter) => messages.filter((m) => !filter?.to || m.to === filter.to),
    callbacks: () => callbacks,
    async settled() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    configure(patch) {
      config = { ...config, ...patch };
      return config;
    },
    reset,
    close,
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
