import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { createWhatsAppClient } from '../../activities/channels/whatsapp';
import { createWhatsAppOnboardingClient } from '../../activities/channels/whatsapp/onboarding';
import { buildApp } from '../../api/app';
import { decryptedAccessToken } from '../../core/channels/lines';
import { ChannelSendError } from '../../core/channels/errors';
import { secretBoxFor } from '../../core/crypto/secret-box';
import { WhatsAppLine } from '../../core/db/entities';
import { simulatorControl } from '../../dev/simulators/control-client';
import { defaultSimulatorAppId, type SimWaba } from '../../dev/whatsapp-simulator/onboarding';
import { apiTokenFor, signedInAccount, uniqueIp, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';
import { startWhatsAppSimulator, type SimulatorProcess } from '../support/whatsapp-simulator-process';

/**
 * Connecting numbers through Meta: Embedded Signup's server side, the reset before reconnecting, and extra numbers
 * of a WABA. The API calls the WhatsApp simulator (its own process) as Meta's Graph API, exactly as it would Meta:
 * code exchange, debug_token, phone_numbers, register and subscribed_apps.
 */

interface SignupSession {
  code: string;
  wabaId: string;
  phoneNumberIds: string[];
  sessionInfo: { type: string; event: string; data: { waba_id: string; phone_number_id?: string; business_id: string } };
}
interface SimPhone {
  displayPhoneNumber?: string;
  status?: 'CONNECTED' | 'PENDING';
  pin?: string;
}

const appSecret = 'onboarding-app-secret';
let stack: TestStack;
let sim: SimulatorProcess;
let control: ReturnType<typeof simulatorControl>;

beforeAll(async () => {
  sim = await startWhatsAppSimulator({ appSecret });
  stack = await openTestStack({ WHATSAPP_GRAPH_URL: sim.url, META_APP_ID: defaultSimulatorAppId, META_APP_SECRET: appSecret });
  control = simulatorControl(sim.url, 'whatsapp simulator');
}, 60_000);
afterAll(async () => {
  await sim?.stop();
  await stack?.close();
});
afterEach(async () => sim.configure({ appId: defaultSimulatorAppId, phoneNumberPageLimit: 100 }));

const box = () => secretBoxFor(stack.deps.config);
/** A customer finishing Embedded Signup at Meta: the WABA, its new numbers, and what the page is given. */
const finishSignup = (req: { wabaId?: string; phones?: SimPhone[]; finishOnlyWaba?: boolean } = {}) =>
  control<SignupSession>('POST', 'signup', { phones: [{ status: 'CONNECTED' }], ...req });
const wabaAtMeta = async (id: string) => (await control<SimWaba[]>('GET', 'wabas')).find((w) => w.id === id)!;
const signup = (account: TestAccount, body: Record<string, unknown>) => account.agent.post('/api/whatsapp/embedded-signup').send(body);
const linesOf = async (account: TestAccount) => (await account.agent.get('/api/settings/whatsapp')).body.lines as Array<Record<string, any>>;
const storedLine = (id: string) => stack.orm.em.fork().findOneOrFail(WhatsAppLine, { id });

/** An account with one line from Embedded Signup, in a WABA with further numbers. */
async function connectedAccount(phones: SimPhone[] = [{ status: 'CONNECTED' }]) {
  const owner = await signedInAccount(stack);
  const session = await finishSignup({ phones });
  const res = await signup(owner, { code: session.code, sessionInfo: session.sessionInfo });
  expect(res.status).toBe(201);
  return { owner, session, line: res.body.lines[0].line as Record<string, any> };
}

describe('POST /api/whatsapp/embedded-signup', () => {
  it('exchanges the code, stores the chosen number as the primary line with its token encrypted, and subscribes the app to the WABA', async () => {
    const owner = await signedInAccount(stack);
    const session = await finishSignup({ phones: [{ status: 'CONNECTED', displayPhoneNumber: '+1 555-010-4242' }, { status: 'PENDING' }] });

    const res = await signup(owner, { code: session.code, sessionInfo: session.sessionInfo });
    expect(res.status).toBe(201);
    expect(res.body.wabaIds).toEqual([session.wabaId]);
    expect(res.body.lines).toHaveLength(1);
    const [connected] = res.body.lines;
    expect(connected).toMatchObject({
      created: true,
      registration: 'already_registered',
      phone: { phoneNumberId: session.phoneNumberIds[0], displayPhoneNumber: '+1 555-010-4242', status: 'CONNECTED', qualityRating: 'GREEN' },
      line: { phoneNumberId: session.phoneNumberIds[0], wabaId: session.wabaId, displayPhoneNumber: '+1 555-010-4242', isPrimary: true, status: 'active' },
    });
    expect(connected.line.accessToken).toMatch(/^\*\*\*\*.{4}$/);

    // The business token Meta issued is stored sealed, and it is a working token: it sends from the new line.
    const line = await storedLine(connected.line.id);
    const token = decryptedAccessToken(line, box());
    expect(token).toMatch(/^EAA/);
    expect(line.accessTokenSealed).not.toContain(token.slice(0, 12));
    const sent = await createWhatsAppClient({ graphUrl: sim.url, apiVersion: 'v25.0' }).sendMessage({
      phoneNumberId: line.phoneNumberId,
      accessToken: token,
      to: '+15550009999',
      message: { type: 'text', body: 'connected' },
    });
    expect(sent.wamid).toMatch(/^wamid\./);

    expect((await wabaAtMeta(session.wabaId)).subscribedApps).toEqual([defaultSimulatorAppId]);
    const subscribed = await fetch(`${sim.url}/v25.0/${session.wabaId}/subscribed_apps`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await subscribed.json()) as { data: unknown }).data).toEqual([expect.objectContaining({ whatsapp_business_api_data: expect.objectContaining({ id: defaultSimulatorAppId }) })]);
  });

  it('refuses a code Meta refuses (used, or never issued) with a 400 saying why, and stores nothing', async () => {
    const owner = await signedInAccount(stack);
    const session = await finishSignup();
    expect((await signup(owner, { code: session.code, sessionInfo: session.sessionInfo })).status).toBe(201);

    const used = await signup(owner, { code: session.code, sessionInfo: session.sessionInfo });
    expect(used.status).toBe(400);
    expect(used.body.error).toMatch(/Meta refused the Embedded Signup code: This authorization code has been used.*run Embedded Signup again/);

    const stranger = await signedInAccount(stack);
    const bogus = await signup(stranger, { code: `AQ${randomBytes(30).toString('hex')}`, sessionInfo: session.sessionInfo });
    expect(bogus.status).toBe(400);
    expect(bogus.body.error).toMatch(/Invalid verification code format/);
    expect(await linesOf(stranger)).toEqual([]);
  });

  it("answers 502 when Meta refuses FlowBot's app credentials, and 503 when they are not configured", async () => {
    const owner = await signedInAccount(stack);
    await sim.configure({ appId: '999999' });
    const session = await finishSignup();
    const refused = await signup(owner, { code: session.code, sessionInfo: session.sessionInfo });
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatch(/META_APP_ID \/ META_APP_SECRET.*Invalid application ID/);

    const { app } = buildApp({ ...stack.deps, config: { ...stack.deps.config, whatsapp: { ...stack.deps.config.whatsapp, appId: undefined } } });
    const agent = request.agent(app.callback());
    const login = await agent.post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: owner.user.username, password: owner.password });
    expect(login.status).toBe(200);
    const unconfigured = await agent.post('/api/whatsapp/embedded-signup').send({ code: 'AQabc' });
    expect(unconfigured.status).toBe(503);
    expect(unconfigured.body.error).toMatch(/set META_APP_ID and META_APP_SECRET/);
    expect(await linesOf(owner)).toEqual([]);
  });

  it('without session info, connects every number of the WABAs the token was granted (debug_token), registering them with the PIN', async () => {
    const owner = await signedInAccount(stack);
    const session = await finishSignup({ phones: [{ status: 'PENDING' }, { status: 'PENDING' }] });
    const res = await signup(owner, { code: session.code, pin: '246810' });
    expect(res.status).toBe(201);
    expect(res.body.wabaIds).toEqual([session.wabaId]);
    expect(res.body.lines.map((l: any) => l.phone.phoneNumberId).sort()).toEqual([...session.phoneNumberIds].sort());
    expect(res.body.lines.map((l: any) => l.registration)).toEqual(['registered_now', 'registered_now']);
    expect(res.body.lines.filter((l: any) => l.line.isPrimary)).toHaveLength(1);
    const atMeta = await wabaAtMeta(session.wabaId);
    expect(atMeta.phoneNumbers.map((p) => [p.status, p.platformType, p.pin])).toEqual([
      ['CONNECTED', 'CLOUD_API', '246810'],
      ['CONNECTED', 'CLOUD_API', '246810'],
    ]);
  });

  it('connects a number still to be registered as pending when no PIN is given, and a WABA-only signup takes all its numbers', async () => {
    const owner = await signedInAccount(stack);
    const session = await finishSignup({ phones: [{ status: 'PENDING' }], finishOnlyWaba: true });
    expect(session.sessionInfo).toMatchObject({ event: 'FINISH_ONLY_WABA', data: { waba_id: session.wabaId } });
    const res = await signup(owner, { code: session.code, sessionInfo: session.sessionInfo });
    expect(res.status).toBe(201);
    expect(res.body.lines).toEqual([expect.objectContaining({ registration: 'pending', phone: expect.objectContaining({ status: 'PENDING' }) })]);
    expect((await wabaAtMeta(session.wabaId)).phoneNumbers[0].status).toBe('PENDING');
  });

  it('gives a number that is already a line the new token (200), and refuses a signup that did not finish', async () => {
    const { owner, session, line } = await connectedAccount();
    const before = decryptedAccessToken(await storedLine(line.id), box());
    const again = await finishSignup({ wabaId: session.wabaId, phones: [] });
    const res = await signup(owner, { code: again.code, sessionInfo: { ...again.sessionInfo, data: { ...again.sessionInfo.data, phone_number_id: session.phoneNumberIds[0] } } });
    expect(res.status).toBe(200);
    expect(res.body.lines).toEqual([expect.objectContaining({ created: false, line: expect.objectContaining({ id: line.id }) })]);
    expect(decryptedAccessToken(await storedLine(line.id), box())).not.toBe(before);

    const cancelled = await signup(owner, { code: 'AQunused', sessionInfo: { type: 'WA_EMBEDDED_SIGNUP', event: 'CANCEL', data: { current_step: 'PHONE_NUMBER_SETUP' } } });
    expect(cancelled.status).toBe(400);
    expect(cancelled.body.error).toMatch(/did not finish \(event CANCEL: left at step PHONE_NUMBER_SETUP\)/);
  });

  it("refuses another account's number with a 409 before changing anything at Meta", async () => {
    const { session } = await connectedAccount();
    const intruder = await signedInAccount(stack);
    const grant = await finishSignup({ wabaId: session.wabaId, phones: [], finishOnlyWaba: true });
    const subscribedBefore = (await wabaAtMeta(session.wabaId)).subscribedApps;
    const res = await signup(intruder, { code: grant.code, sessionInfo: { waba_id: session.wabaId, phone_number_id: session.phoneNumberIds[0] } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/already connected to another account/);
    expect(await linesOf(intruder)).toEqual([]);
    expect((await wabaAtMeta(session.wabaId)).subscribedApps).toEqual(subscribedBefore);
  });

  it('is for browser sessions only, and validates its body', async () => {
    const owner = await signedInAccount(stack);
    const token = await apiTokenFor(stack, owner.user);
    const bearer = await stack.http().post('/api/whatsapp/embedded-signup').set('Authorization', `Bearer ${token}`).send({ code: 'AQx' });
    expect(bearer.status).toBe(403);
    const bad = await signup(owner, { code: '', pin: '12', sessionInfo: { data: { waba_id: 'not-digits' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/code: must not be empty/);
  });
});

describe('POST /api/whatsapp/reset-wa-before-reconnect', () => {
  it("removes all of the account's lines but keeps its conversations, pauses its campaigns, and gives a reconnected number its line back", async () => {
    const { owner, session, line } = await connectedAccount([{ status: 'CONNECTED' }, { status: 'CONNECTED' }]);
    const extra = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: session.phoneNumberIds[1] });
    expect(extra.status).toBe(201);
    const neighbour = await connectedAccount();

    const tenantId = owner.user.tenantId;
    const conn = stack.orm.em.getConnection();
    const conversationId = randomUUID();
    const campaignId = randomUUID();
    const groupId = randomUUID();
    await conn.execute(
      `insert into conversations (id, tenant_id, channel, line_id, contact, journey_workflow_id) values (?, ?, 'whatsapp', ?, '15550001234', ?)`,
      [conversationId, tenantId, line.id, `journey/${tenantId}/whatsapp/${line.id}/15550001234`],
    );
    await conn.execute(`insert into messages (id, tenant_id, conversation_id, direction, type, text, payload, status) values (?, ?, ?, 'in', 'text', 'hello', '{}', 'received')`, [
      randomUUID(),
      tenantId,
      conversationId,
    ]);
    await conn.execute(
      `insert into campaigns (id, tenant_id, line_id, name, message, recipient_count, workflow_id) values (?, ?, ?, 'spring sale', '{"type":"template"}', 0, ?)`,
      [campaignId, tenantId, line.id, `campaign/${tenantId}/${campaignId}`],
    );
    await conn.execute(`insert into template_groups (id, tenant_id, name, preferred_line_id) values (?, ?, 'fallbacks', ?)`, [groupId, tenantId, line.id]);
    await owner.agent.put(`/api/settings/whatsapp/${line.id}`).send({ ratePerSecond: 250 }).expect(200);

    const reset = await owner.agent.post('/api/whatsapp/reset-wa-before-reconnect').send({ unsubscribe: true });
    expect(reset.status).toBe(200);
    expect(reset.body.removedLines.map((l: any) => l.id).sort()).toEqual([line.id, extra.body.line.id].sort());
    expect(reset.body.pausedCampaignIds).toEqual([campaignId]);
    expect(reset.body.webhooks).toEqual([{ wabaId: session.wabaId, outcome: 'unsubscribed' }]);
    expect((await wabaAtMeta(session.wabaId)).subscribedApps).toEqual([]);
    expect(await linesOf(owner)).toEqual([]);
    expect(await linesOf(neighbour.owner)).toHaveLength(1);

    const [conversation] = await conn.execute(`select line_id, (select count(*)::int from messages where conversation_id = c.id) as messages from conversations c where id = ?`, [conversationId]);
    expect(conversation).toEqual({ line_id: line.id, messages: 1 });
    const [campaign] = await conn.execute(`select status, status_reason from campaigns where id = ?`, [campaignId]);
    expect(campaign).toEqual({ status: 'paused', status_reason: expect.stringMatching(/resume the campaign once the number is connected again/) });
    const groupLine = async () => (await conn.execute(`select preferred_line_id from template_groups where id = ?`, [groupId]))[0].preferred_line_id;
    expect(await groupLine()).toBeNull();

    const again = await finishSignup({ wabaId: session.wabaId, phones: [] });
    const reconnect = await signup(owner, { code: again.code, sessionInfo: { ...again.sessionInfo, data: { ...again.sessionInfo.data, phone_number_id: session.phoneNumberIds[0] } } });
    expect(reconnect.status).toBe(201);
    expect(reconnect.body.lines[0]).toMatchObject({ created: true, line: { id: line.id, verifyToken: line.verifyToken, ratePerSecond: 250, isPrimary: true } });
    expect(await groupLine()).toBe(line.id);
    expect((await wabaAtMeta(session.wabaId)).subscribedApps).toEqual([defaultSimulatorAppId]);
  });

  it("keeps the webhook subscription of a WABA another account still uses, and answers an account without lines", async () => {
    const { owner, session } = await connectedAccount();
    const other = await signedInAccount(stack);
    await other.agent.post('/api/settings/whatsapp').send({ phoneNumberId: String(Date.now()), wabaId: session.wabaId, accessToken: sim.accessToken }).expect(201);

    const reset = await owner.agent.post('/api/whatsapp/reset-wa-before-reconnect').send({ unsubscribe: true });
    expect(reset.status).toBe(200);
    expect(reset.body.webhooks).toEqual([{ wabaId: session.wabaId, outcome: 'kept_shared' }]);
    expect((await wabaAtMeta(session.wabaId)).subscribedApps).toEqual([defaultSimulatorAppId]);

    const empty = await owner.agent.post('/api/whatsapp/reset-wa-before-reconnect');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ removedLines: [], pausedCampaignIds: [], webhooks: [] });
  });
});

describe('GET, POST /api/whatsapp/extra-wa-lines', () => {
  it("lists the WABA's numbers that are not lines yet, following Meta's pages, and adds one as a line sharing the primary line's token", async () => {
    await sim.configure({ phoneNumberPageLimit: 2 });
    const { owner, session, line } = await connectedAccount([{ status: 'CONNECTED' }, { status: 'CONNECTED' }, { status: 'PENDING' }, {}, {}]);

    const list = await owner.agent.get('/api/whatsapp/extra-wa-lines');
    expect(list.status).toBe(200);
    expect(list.body.wabaId).toBe(session.wabaId);
    expect(list.body.phoneNumbers.map((p: any) => p.phoneNumberId)).toEqual(session.phoneNumberIds.slice(1));
    expect(list.body.phoneNumbers[0]).toMatchObject({ status: 'CONNECTED', verifiedName: 'Simulated Business', codeVerificationStatus: 'VERIFIED' });

    const added = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: session.phoneNumberIds[1] });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ registeredNow: false, line: { phoneNumberId: session.phoneNumberIds[1], wabaId: session.wabaId, isPrimary: false, status: 'active' } });
    const primaryToken = decryptedAccessToken(await storedLine(line.id), box());
    expect(decryptedAccessToken(await storedLine(added.body.line.id), box())).toBe(primaryToken);

    const twice = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: session.phoneNumberIds[1] });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatch(/already connected as one of your lines/);
    expect((await owner.agent.get('/api/whatsapp/extra-wa-lines')).body.phoneNumbers.map((p: any) => p.phoneNumberId)).toEqual(session.phoneNumberIds.slice(2));
  });

  it('registerOnly registers a PENDING number with the Cloud API without adding a line; a wrong PIN is a 400', async () => {
    const { owner, session } = await connectedAccount([{ status: 'CONNECTED' }, { status: 'PENDING' }, { status: 'PENDING', pin: '111111' }]);
    const [, pending, locked] = session.phoneNumberIds;

    const noPin = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: pending, registerOnly: true });
    expect(noPin.status).toBe(400);
    expect(noPin.body.error).toMatch(/pin: registerOnly needs the pin/);

    const registered = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: pending, registerOnly: true, pin: '135790' });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ registered: true, wabaId: session.wabaId, phone: { phoneNumberId: pending, status: 'CONNECTED' } });
    expect((await wabaAtMeta(session.wabaId)).phoneNumbers.find((p) => p.id === pending)).toMatchObject({ status: 'CONNECTED', platformType: 'CLOUD_API', pin: '135790' });
    expect((await linesOf(owner)).map((l) => l.phoneNumberId)).not.toContain(pending);
    expect((await owner.agent.get('/api/whatsapp/extra-wa-lines')).body.phoneNumbers.find((p: any) => p.phoneNumberId === pending)).toMatchObject({ status: 'CONNECTED' });

    const mismatch = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: locked, registerOnly: true, pin: '222222' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatch(/Two step verification PIN Mismatch \(code 133005\)/);

    const withPin = await owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: locked, pin: '111111' });
    expect(withPin.status).toBe(201);
    expect(withPin.body).toMatchObject({ registeredNow: true, phone: { status: 'CONNECTED' }, line: { phoneNumberId: locked } });
  });

  it("keeps to the account's own WABAs: another account's numbers cannot be listed, added or registered", async () => {
    const a = await connectedAccount([{ status: 'CONNECTED' }, { status: 'PENDING' }]);
    const b = await connectedAccount();
    const theirs = a.session.phoneNumberIds[1];

    expect((await b.owner.agent.get('/api/whatsapp/extra-wa-lines')).body.phoneNumbers).toEqual([]);
    const listOther = await b.owner.agent.get('/api/whatsapp/extra-wa-lines').query({ wabaId: a.session.wabaId });
    expect(listOther.status).toBe(400);
    expect(listOther.body.error).toMatch(/None of your WhatsApp lines belongs to WhatsApp Business Account/);
    const add = await b.owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: theirs });
    expect(add.status).toBe(400);
    expect(add.body.error).toMatch(new RegExp(`${theirs} is not a number of WhatsApp Business Account ${b.session.wabaId}`));
    const register = await b.owner.agent.post('/api/whatsapp/extra-wa-lines').send({ phoneNumberId: theirs, wabaId: a.session.wabaId, registerOnly: true, pin: '123456' });
    expect(register.status).toBe(400);
    expect((await wabaAtMeta(a.session.wabaId)).phoneNumbers[1].status).toBe('PENDING');

    const lineless = await signedInAccount(stack);
    const none = await lineless.agent.get('/api/whatsapp/extra-wa-lines');
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/connect one with Embedded Signup first/);
  });

  it("answers 502 and marks the line for re-authentication when Meta refuses the line's token", async () => {
    const { owner, line } = await connectedAccount();
    await owner.agent.put(`/api/settings/whatsapp/${line.id}`).send({ accessToken: `EAArevoked${randomBytes(8).toString('hex')}` }).expect(200);
    const res = await owner.agent.get('/api/whatsapp/extra-wa-lines');
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/refused the access token of line .* marked as needing re-authentication/);
    expect((await storedLine(line.id)).status).toBe('needs_reauth');
  });
});

describe('the simulator, as Meta', () => {
  const client = () => createWhatsAppOnboardingClient({ graphUrl: sim.url, apiVersion: 'v25.0' });
  const app = { appId: defaultSimulatorAppId, appSecret };

  it("pages phone numbers with cursors, names a token's WABAs in debug_token, and hides WABAs the token was not granted", async () => {
    const mine = await finishSignup({ phones: [{}, {}, {}] });
    const other = await finishSignup();
    const { accessToken } = await client().exchangeCode({ ...app, code: mine.code });

    const first = await client().listPhoneNumbers({ wabaId: mine.wabaId, accessToken, limit: 2 });
    expect(first.phoneNumbers.map((p) => p.id)).toEqual(mine.phoneNumberIds.slice(0, 2));
    const second = await client().listPhoneNumbers({ wabaId: mine.wabaId, accessToken, limit: 2, after: first.after });
    expect(second).toEqual({ phoneNumbers: [expect.objectContaining({ id: mine.phoneNumberIds[2], status: 'PENDING', platformType: 'NOT_APPLICABLE' })] });

    expect(await client().tokenGrants({ ...app, inputToken: accessToken })).toEqual({ isValid: true, wabaIds: [mine.wabaId] });
    expect(await client().tokenGrants({ ...app, inputToken: 'EAAnonsense' })).toMatchObject({ isValid: false, wabaIds: [], error: expect.stringMatching(/Cannot parse access token/) });

    const hidden = await client().listPhoneNumbers({ wabaId: other.wabaId, accessToken }).catch((e: unknown) => e);
    expect(hidden).toBeInstanceOf(ChannelSendError);
    expect(hidden).toMatchObject({ code: 100, subcode: 33, errorClass: 'definitive' });
    const unknownToken = await client().subscribeApp({ wabaId: mine.wabaId, accessToken: 'EAAunknown' }).catch((e: unknown) => e);
    expect(unknownToken).toMatchObject({ code: 190, errorClass: 'credentials' });

    const raw = await fetch(`${sim.url}/v25.0/oauth/access_token?client_id=${defaultSimulatorAppId}&client_secret=wrong&code=${mine.code}`);
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: unknown }).error).toMatchObject({ message: 'Error validating client secret.', type: 'OAuthException', code: 1 });
  });
});
