import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { signedInAccount, uniqueIp } from '../support/accounts';
import { eventually, openJourneyStack, type JourneyStack } from '../support/journey-stack';

/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the real stack: the
 * API serving web/dist, PostgreSQL, Temporal, a worker and the WhatsApp simulator. A person's path: sign in,
 * build a two-node flow on the canvas, publish and activate it, a customer writes the keyword, the
 * conversation shows up in the inbox, the agent claims it and replies, and the reply reaches WhatsApp.
 * Screenshots of each page land in test-results/screenshots/.
 */

const root = path.resolve(__dirname, '..', '..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = path.join(root, 'test-results', 'screenshots');

let js: JourneyStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const word = `promo${Date.now() % 100000}`;
const customer = `97252${String(Date.now() % 1_000_000).padStart(6, '0')}`;
let flowUrl = '';
const template = `order_${word}`;
/** Bulk-send recipients: they never wrote, so their 24-hour window is closed. */
const recipients = [1, 2].map((n) => `+97253${String(Date.now() % 100_000).padStart(5, '0')}${n}`);
let campaignUrl = '';
/** Event streams the page opened, by their answer's content type. */
const streams: string[] = [];

/** Newest modification time under the given paths (files or folders). */
function newest(paths: string[]): number {
  let latest = 0;
  const visit = (p: string) => {
    if (!fs.existsSync(p)) return;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    else latest = Math.max(latest, stat.mtimeMs);
  };
  paths.forEach(visit);
  return latest;
}

/** Builds web/dist when it is missing or older than its sources (Vite's own CLI: Vite is ESM-only, jest is not). */
function ensureWebBuilt(): void {
  const index = path.join(root, 'web', 'dist', 'index.html');
  const sources = newest(['web/src', 'web/index.html', 'web/vite.config.ts', 'web/public', 'core/flow'].map((p) => path.join(root, p)));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const res = spawnSync(process.execPath, [vite, 'build', 'web', '--logLevel', 'error'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`building the dashboard failed (vite build web):\n${res.stdout}\n${res.stderr}`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: false });
}

/** The page scrolls inside the frame's content area, not the document: back to its top. */
async function scrollToTop(): Promise<void> {
  await page.locator('main.content').evaluate((el) => el.scrollTo(0, 0));
}

/** Drags a connection from one handle to another the way a mouse does, in small steps. */
async function drag(from: Locator, to: Locator): Promise<void> {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 40, a.y + 10, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

/**
 * Drags an edge between two handles as a person would. The canvas measures handles after each re-render, so
 * a drag that starts while it is still settling can miss; the person would simply drag again, and so do we.
 */
async function connect(from: Locator, to: Locator): Promise<void> {
  const edges = page.locator('.react-flow__edge');
  const before = await edges.count();
  for (let attempt = 1; ; attempt++) {
    await drag(from, to);
    // Counted from here rather than with page.waitForFunction: a string predicate that does not hold at once is
    // polled by evaluating it in the page, which the dashboard's CSP (no 'unsafe-eval') reports as a page error.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      if ((await edges.count()) > before) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (attempt === 5) throw new Error(`no new edge after ${attempt} drags`);
  }
}

beforeAll(async () => {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(
      `The dashboard browser test needs Chromium at ${chromiumPath}, which is missing. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH to another Chromium).',
    );
  }
  fs.mkdirSync(screenshots, { recursive: true });
  ensureWebBuilt();
  js = await openJourneyStack();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  // Its own client address, so the per-IP login limit is never shared with other test files.
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, extraHTTPHeaders: { 'X-Forwarded-For': uniqueIp() } });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/api/conversations/events') streams.push(`${res.status()} ${res.headers()['content-type']}`);
  });
  page.on('dialog', (dialog) => void dialog.accept());
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await js?.close();
});

afterEach(() => {
  // An exception in the page is a bug even when the screen looks right.
  expect(pageErrors).toEqual([]);
});

describe('the dashboard in a browser, against the real stack', () => {
  it('serves the app at / and checks the sign-in form before sending it; a wrong password is shown in words', async () => {
    await page.goto(js.apiUrl);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect(await page.locator('.field-error').allTextContents()).toEqual(['is required', 'is required']);

    await page.getByLabel('Username or e-mail').fill(js.owner.user.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid username or password' }).waitFor();
    await shot('login');

    await page.getByLabel('Password').fill(js.owner.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/flows');
  });

  it('builds a two-node flow on the canvas, with inline validation, then saves, publishes and activates it', async () => {
    await page.getByRole('button', { name: 'New flow', exact: true }).click();
    expect(await page.locator('.field-error').textContent()).toBe('is required');
    await page.getByLabel('Name').fill(`Welcome ${word}`);
    await page.getByRole('button', { name: 'New flow', exact: true }).click();
    await page.getByRole('button', { name: 'Save draft', exact: true }).waitFor();
    flowUrl = page.url();

    await page.locator('[data-node-type="trigger_inbound"]').click();
    const panel = page.getByTestId('node-panel');
    await panel.getByLabel('Keywords, one per line').fill(word);

    await page.locator('[data-node-type="send_text"]').click();
    // A new text node is empty: the schema's own message shows beside the field and on the node.
    await panel.getByText('must not be empty').waitFor();
    await page.locator('.step-invalid').waitFor();
    await page.getByRole('button', { name: 'Save draft', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'problem(s) to fix' }).waitFor();
    await panel.getByLabel('Text ({{variable}} allowed)').fill('Hello from FlowBot! Reply and an agent will answer.');
    await expect0(page.locator('.step-invalid'));

    await connect(page.locator('[data-testid^="node-trigger_inbound"] .handle-out'), page.locator('[data-testid^="node-send_text"] .handle-in'));
    expect(await page.locator('.react-flow__edge').count()).toBe(1);

    // The API's refusal is shown as it said it: a flow without a published version cannot be active.
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'published version' }).waitFor();

    await page.getByRole('button', { name: 'Save draft', exact: true }).click();
    await page.getByText('Draft saved').waitFor();
    await page.getByRole('button', { name: 'Publish version', exact: true }).click();
    await page.getByText('Published version 1').waitFor();
    await page.getByTestId('versions').getByText('v1').waitFor();
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.getByTestId('flow-status').filter({ hasText: 'Active' }).waitFor();
    await page.locator('[data-testid^="node-send_text"]').click();
    await shot('flow-editor');

    await page.getByRole('button', { name: 'Export Drawflow', exact: true }).click();
    const exported = JSON.parse(await page.getByLabel('Drawflow JSON').inputValue());
    const names = Object.values(exported.drawflow.Home.data as Record<string, { name: string }>).map((n) => n.name);
    expect(names.sort()).toEqual(['send_text', 'trigger_inbound']);
    await shot('flow-export');
    await page.getByRole('button', { name: 'Close', exact: true }).click();

    await page.getByRole('link', { name: 'Flows', exact: true }).click();
    await page.getByRole('link', { name: `Welcome ${word}` }).waitFor();
    await shot('flows');
  });

  it('shows the conversation the flow started in the inbox, and the agent reply reaches WhatsApp', async () => {
    await js.sim.inbound({ from: customer, phoneNumberId: js.line.phoneNumberId, text: `Hi, I saw the ${word} ad`, name: 'דנה כהן' });
    await eventually(async () => (await js.sim.messages({ to: customer })).length >= 1, 'the flow to answer the customer');

    await page.getByRole('link', { name: 'Inbox', exact: true }).click();
    const item = page.getByTestId('conversation').filter({ hasText: 'דנה כהן' });
    await item.waitFor();
    await item.click();
    await page.getByTestId('messages').getByText(`Hi, I saw the ${word} ad`).waitFor();
    await page.getByTestId('messages').getByText('Hello from FlowBot!').waitFor();
    // The simulator reports sent, delivered and read: the ticks follow without a reload.
    await page.locator('[data-testid="message"][data-status="read"]').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('window-state').getAttribute('data-open')).toBe('true');
    expect(await page.getByTestId('temporal-link').getAttribute('href')).toContain('/workflows/');
    await shot('inbox');

    await page.getByRole('button', { name: 'Claim', exact: true }).click();
    await page.getByTestId('conversation-status').filter({ hasText: 'Agent' }).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByTestId('reply').getByText('is required').waitFor();
    await page.getByLabel('Message', { exact: true }).fill('Hi Dana, an agent here. How can I help?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    const texts = async () => (await js.sim.messages({ to: customer })).map((m) => (m.body as { text?: { body: string } }).text?.body);
    await eventually(async () => (await texts()).includes('Hi Dana, an agent here. How can I help?'), 'the agent reply at the simulator');
    await page.getByTestId('messages').getByText('Hi Dana, an agent here.').waitFor();

    // A new customer message appears without reloading the page: pushed by the live feed (Server-Sent Events),
    // well before the fallback poll, which waits 30 s while the feed is live.
    await page.locator('[data-testid="live"][data-state="live"]').waitFor();
    expect(streams).toContain('200 text/event-stream; charset=utf-8');
    const before = Date.now();
    await js.sim.inbound({ from: customer, phoneNumberId: js.line.phoneNumberId, text: 'תודה רבה!', name: 'דנה כהן' });
    await page.getByTestId('messages').getByText('תודה רבה!').waitFor({ timeout: 8000 });
    expect(Date.now() - before).toBeLessThan(8000);
    await shot('inbox-reply');
  });

  it('settings show the line, issue an API key once, and save, show masked and remove the SMS fallback; users are listed for the owner', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByTestId('lines').getByText(js.line.phoneNumberId).waitFor();
    await page.getByRole('button', { name: 'Connect a line', exact: true }).click();
    await page.getByTestId('lines').getByText("must be Meta's phone number id (digits only)").waitFor();
    await page.getByRole('button', { name: 'Issue a new API key', exact: true }).click();
    const key = await page.getByTestId('new-key').locator('code').textContent();
    expect(key).toMatch(/\S{20,}/);
    await shot('settings');

    // SMS fallback: checked before sending, the API's refusal shown in its words, saved, then shown masked.
    const sms = page.getByTestId('sms');
    await sms.getByTestId('sms-not-configured').waitFor();
    await sms.getByRole('button', { name: 'Save SMS settings', exact: true }).click();
    expect(await sms.locator('.field-error').allTextContents()).toEqual(['is required', 'is required', 'is required']);
    const token = 'flowbot-sms-simulator-token';
    await sms.getByLabel('Account SID').fill('XY123');
    await sms.getByLabel('Auth token').fill('x'.repeat(300));
    await sms.getByLabel('Sender: number (E.164) or messaging service SID (MG…)').fill('0551234567');
    await sms.getByLabel('Status callback URL (optional)').fill('ftp://example.com/cb');
    await sms.getByRole('button', { name: 'Save SMS settings', exact: true }).click();
    expect(await sms.locator('.field-error').allTextContents()).toEqual([
      'must be the account SID (AC…)',
      'must be an E.164 number (e.g. +15551234567) or a messaging service SID (MG…)',
      'must be an http(s) URL',
    ]);
    const sid = `AC${'0'.repeat(32)}`;
    await sms.getByLabel('Account SID').fill(sid);
    await sms.getByLabel('Sender: number (E.164) or messaging service SID (MG…)').fill('+15551234567');
    await sms.getByLabel('Status callback URL (optional)').fill('');
    await sms.getByRole('button', { name: 'Save SMS settings', exact: true }).click();
    await sms.getByRole('alert').filter({ hasText: 'Invalid body: authToken:' }).waitFor();

    await sms.getByLabel('Auth token').fill(token);
    const saved = page.waitForResponse((res) => res.request().method() === 'PUT' && new URL(res.url()).pathname === '/api/settings/sms');
    await sms.getByRole('button', { name: 'Save SMS settings', exact: true }).click();
    expect(await (await saved).text()).not.toContain(token);
    await sms.getByRole('status').filter({ hasText: 'SMS settings saved.' }).waitFor();
    // A controlled checkbox: it shows checked once the API has stored the change.
    await sms.getByLabel('Send by SMS when WhatsApp fails').click();
    await sms.getByRole('checkbox', { name: 'Send by SMS when WhatsApp fails', checked: true }).waitFor();

    await page.reload();
    await page.getByTestId('sms-token').getByText('****oken', { exact: true }).waitFor();
    expect(await page.getByTestId('sms').getByLabel('Send by SMS when WhatsApp fails').isChecked()).toBe(true);
    expect(await page.getByTestId('sms').getByLabel('Auth token').inputValue()).toBe('');
    expect(await page.getByTestId('sms-current').textContent()).toContain(sid);
    await page.getByTestId('sms').scrollIntoViewIfNeeded();
    await shot('settings-sms');
    const stored = await js.owner.agent.get('/api/settings/sms').expect(200);
    expect(stored.body).toMatchObject({ provider: 'twilio', accountSid: sid, authToken: '****oken', from: '+15551234567', messagingServiceSid: null, baseUrl: 'https://api.twilio.com', fallbackEnabled: true });
    expect(stored.text).not.toContain(token);

    // A member of the same account sees the settings but cannot change them.
    const member = await signedInAccount(js.stack, { role: 'user', tenantId: js.owner.user.tenantId });
    const memberContext = await browser.newContext({ viewport: { width: 1440, height: 900 }, extraHTTPHeaders: { 'X-Forwarded-For': uniqueIp() } });
    try {
      const memberPage = await memberContext.newPage();
      memberPage.on('pageerror', (err) => pageErrors.push(err.message));
      await memberPage.goto(js.apiUrl);
      await memberPage.getByLabel('Username or e-mail').fill(member.user.username);
      await memberPage.getByLabel('Password').fill(member.password);
      await memberPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await memberPage.getByRole('heading', { name: 'Flows' }).waitFor();
      await memberPage.goto(`${js.apiUrl}/settings`);
      const readOnly = memberPage.getByTestId('sms');
      await readOnly.getByTestId('sms-token').getByText('****oken', { exact: true }).waitFor();
      await readOnly.getByText('Only owners and administrators change these settings.').waitFor();
      expect(await readOnly.getByLabel('Send by SMS when WhatsApp fails').isDisabled()).toBe(true);
      expect(await readOnly.getByRole('button').count()).toBe(0);
    } finally {
      await memberContext.close();
    }

    await page.getByTestId('sms').getByRole('button', { name: 'Remove SMS settings', exact: true }).click();
    await page.getByTestId('sms-not-configured').waitFor();
    await js.owner.agent.get('/api/settings/sms').expect(404);

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users').getByRole('cell', { name: js.owner.user.username, exact: true }).first().waitFor();
    await shot('users');
  });

  it('creates templates, checking them before sending; WhatsApp approves them; groups, sync and delete work', async () => {
    // Meta reviews a template in minutes; the simulator's default 300 ms can beat the API storing Meta's answer on a
    // busy machine, and that race is not what this test is about.
    await js.sim.configure({ templateReviewDelayMs: 1500 });
    await page.getByRole('link', { name: 'Templates', exact: true }).click();
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    const form = page.getByTestId('template-create');
    const errorOf = (text: string) => form.locator('.field-error').filter({ hasText: text });
    await form.getByRole('button', { name: 'Submit for review', exact: true }).click();
    expect(await form.locator('.field-error').allTextContents()).toEqual(['is required', 'is required']);

    await form.getByLabel('Name', { exact: true }).fill(`Order ${word}`);
    await form.getByLabel('Body', { exact: true }).fill('Hi {{1}}, your order {{3}} is ready.');
    await form.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await errorOf('lowercase letters, digits and underscores only').waitFor();
    await errorOf('placeholders must be numbered {{1}}, {{2}}… in order, without gaps').waitFor();

    await form.getByLabel('Name', { exact: true }).fill(template);
    await form.getByLabel('Body', { exact: true }).fill('Hi {{1}}, your order is ready for pickup.');
    await form.getByLabel('Footer', { exact: true }).fill('FlowBot shop');
    await form.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await errorOf('give an example for each placeholder').waitFor();
    await form.getByLabel('{{1}}', { exact: true }).fill('Dana');
    await form.locator('.phone-preview').getByText('Hi Dana, your order is ready for pickup.').waitFor();
    await form.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Template ${template} submitted to WhatsApp` }).waitFor();
    // The simulator reviews it and posts Meta's status webhook; the list follows by itself.
    const row = page.locator(`[data-testid="template-row"][data-name="${template}"]`);
    await row.locator('[data-testid="template-status"][data-status="APPROVED"]').waitFor({ timeout: 20_000 });

    await form.getByLabel('Name', { exact: true }).fill(`reminder_${word}`);
    await form.getByLabel('Body', { exact: true }).fill('Your order is still waiting for you.');
    await form.getByRole('button', { name: 'Submit for review', exact: true }).click();
    await page.locator(`[data-testid="template-row"][data-name="reminder_${word}"] [data-status="APPROVED"]`).waitFor({ timeout: 20_000 });

    // A group: two templates, the second moved first, with the line as its preferred line.
    const group = page.getByTestId('group-new');
    await group.getByRole('button', { name: 'Create group', exact: true }).click();
    expect(await group.locator('.field-error').allTextContents()).toEqual(['is required', 'add at least one template']);
    await group.getByLabel('Group name').fill(`Pickup ${word}`);
    for (const name of [template, `reminder_${word}`]) {
      await group.getByLabel('Add a template').selectOption({ label: `${name} (en) · Approved` });
      await group.getByRole('button', { name: 'Add', exact: true }).click();
    }
    await group.getByTestId('group-member').nth(1).getByRole('button', { name: 'Move up' }).click();
    await group.getByLabel('Preferred line').selectOption(js.line.phoneNumberId);
    await group.getByRole('button', { name: 'Create group', exact: true }).click();
    const saved = page.locator(`[data-testid="group"][data-name="Pickup ${word}"]`);
    await saved.waitFor();
    expect(await saved.getByTestId('group-member').allTextContents()).toEqual([
      expect.stringContaining(`reminder_${word} (en)`),
      expect.stringContaining(`${template} (en)`),
    ]);
    const stored = await js.owner.agent.get('/api/templates/groups');
    expect(stored.body.find((g: { name: string }) => g.name === `Pickup ${word}`)).toMatchObject({
      templates: [{ name: `reminder_${word}` }, { name: template }],
      preferredPhoneNumberId: js.line.phoneNumberId,
    });
    await shot('template-groups');
    await scrollToTop();
    await shot('templates');

    await page.getByRole('button', { name: 'Sync from WhatsApp', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Synced from WhatsApp' }).waitFor();

    await page.getByRole('button', { name: `Delete reminder_${word}`, exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Template reminder_${word} deleted.` }).waitFor();
    await expect0(page.locator(`[data-testid="template-row"][data-name="reminder_${word}"]`));
    await eventually(async () => (await saved.getByTestId('group-member').count()) === 1, 'the deleted template to leave the group');
  });

  it('bulk-sends the template to two recipients, checked line by line first, and follows the campaign to the end', async () => {
    await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
    await page.getByRole('link', { name: 'New bulk send', exact: true }).click();
    const form = page.getByTestId('bulk-send');
    await form.getByRole('button', { name: 'Send to 0', exact: true }).click();
    await form.getByText('choose an approved template').waitFor();
    await form.getByText('add at least one recipient').waitFor();

    await form.getByLabel('Approved template').selectOption({ label: `${template} (en)` });
    await form.getByLabel('Recipients').fill(`phone,name\n${recipients[0]},Dana\nnot-a-phone,Avi\n${recipients[1]}`);
    await form.getByRole('button', { name: 'Send to 2', exact: true }).click();
    await form.getByText('line 3: “not-a-phone” is not a phone number in international format').waitFor();
    await form.getByText('1 recipient(s) give no parameters: fill in every parameter here').waitFor();

    await form.getByLabel('Recipients').fill(`phone,name\n${recipients[0]},Dana\n${recipients[1]},Avi\n${recipients[0]},Dana`);
    await form.getByTestId('recipient-count').filter({ hasText: '2 recipient(s), 1 duplicate(s) left out, 0 problem(s)' }).waitFor();
    await form.getByLabel('Campaign name').fill(`Pickup reminder ${word}`);
    await shot('bulk-send');
    await form.getByRole('button', { name: 'Send to 2', exact: true }).click();

    await page.getByTestId('campaign').waitFor();
    campaignUrl = page.url();
    expect(new URL(campaignUrl).pathname).toMatch(/^\/campaigns\/[0-9a-f-]{36}$/);
    await page.locator('[data-testid="campaign-status"][data-status="completed"]').waitFor({ timeout: 30_000 });
    // The read ticks arrive after the sends: the counts follow them without a reload.
    await page.locator('[data-testid="count-read"][data-value="2"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid="count-queued"]').getAttribute('data-value')).toBe('0');
    expect(await page.locator('[data-testid="count-failed"]').getAttribute('data-value')).toBe('0');
    await shot('campaign');

    const sent = await js.sim.messages({ phoneNumberId: js.line.phoneNumberId });
    const toRecipients = sent.filter((m) => recipients.includes(`+${m.waId}`));
    expect(toRecipients.map((m) => (m.body as { template?: { name: string } }).template?.name)).toEqual([template, template]);
  });

  it('pauses, resumes and cancels a campaign from its page', async () => {
    // One message a second on this line, so the campaign is still running while the buttons are pressed.
    await js.owner.agent.put(`/api/settings/whatsapp/${js.line.id}`).send({ ratePerSecond: 1 }).expect(200);
    try {
      const many = Array.from({ length: 12 }, (_, i) => `+97254${String(Date.now() % 100_000).padStart(5, '0')}${String(i).padStart(2, '0')}`);
      await page.goto(`${js.apiUrl}/campaigns/new`);
      const form = page.getByTestId('bulk-send');
      await form.getByLabel('Approved template').selectOption({ label: `${template} (en)` });
      await form.getByLabel('{{1}}', { exact: true }).fill('friend');
      await form.getByLabel('Recipients').fill(many.join('\n'));
      await form.getByLabel('Campaign name').fill(`Slow ${word}`);
      await form.getByRole('button', { name: 'Send to 12', exact: true }).click();
      await page.getByTestId('campaign').waitFor();

      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.locator('[data-testid="campaign-status"][data-status="paused"]').waitFor();
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page.locator('[data-testid="campaign-status"][data-status="running"]').waitFor();
      await page.getByRole('button', { name: 'Cancel campaign', exact: true }).click();
      await page.locator('[data-testid="campaign-status"][data-status="cancelled"]').waitFor();
      await eventually(async () => Number(await page.locator('[data-testid="count-skipped"]').getAttribute('data-value')) > 0, 'skipped recipients');
      expect(await page.getByRole('button', { name: 'Resume', exact: true }).count()).toBe(0);
    } finally {
      await js.owner.agent.put(`/api/settings/whatsapp/${js.line.id}`).send({ ratePerSecond: 80 });
    }

    await page.getByRole('link', { name: 'Campaigns', exact: true }).first().click();
    await page.getByTestId('campaign-row').filter({ hasText: `Pickup reminder ${word}` }).waitFor();
    await page.getByTestId('campaign-row').filter({ hasText: `Slow ${word}` }).locator('[data-status="cancelled"]').waitFor();
    await shot('campaigns');
  });

  it('offers only an approved template while the 24-hour window is closed, and sends it', async () => {
    await page.getByRole('link', { name: 'Inbox', exact: true }).click();
    await page.getByPlaceholder('Search phone or name').fill(recipients[0].slice(1));
    await page.getByTestId('conversation').filter({ hasText: recipients[0] }).click();
    expect(await page.getByTestId('window-state').getAttribute('data-open')).toBe('false');
    await page.getByTestId('window-state').getByText('24 h window closed').waitFor();
    const reply = page.getByTestId('reply');
    expect(await reply.getByRole('button', { name: 'Text', exact: true }).isDisabled()).toBe(true);
    await reply.getByRole('button', { name: 'Send', exact: true }).click();
    await reply.getByText('choose an approved template or group').waitFor();

    await reply.getByLabel('Template').selectOption({ label: `${template} (en)` });
    await reply.getByRole('button', { name: 'Send', exact: true }).click();
    await reply.getByText('fill in all 1 parameter(s)').waitFor();
    await reply.getByLabel('{{1}}', { exact: true }).fill('Dana');
    await reply.getByTestId('template-preview').getByText('Hi Dana, your order is ready for pickup.').waitFor();
    await shot('inbox-template');
    // The campaigns above may have sent this customer the same template with the same name already.
    const danaTemplates = page.getByTestId('messages').getByText('(Dana)');
    const before = await danaTemplates.count();
    await reply.getByRole('button', { name: 'Send', exact: true }).click();

    await eventually(
      async () => (await js.sim.messages({ to: recipients[0].slice(1) })).filter((m) => (m.body as { type: string }).type === 'template').length === 2,
      'the agent template at the simulator',
    );
    await danaTemplates.nth(before).waitFor();
  });

  it("shows a refused send in the delivery monitor with WhatsApp's reason and its audit trail, and retries it", async () => {
    const found = await js.owner.agent.get('/api/conversations').query({ search: recipients[1].slice(1) });
    const conversationId: string = found.body[0].id;
    // WhatsApp refuses this template for now: the agent's send fails with Meta's 131026, and stays failed.
    await js.sim.configure({ failTemplates: { [template]: 131026 } });
    try {
      const refused = await js.owner.agent
        .post(`/api/conversations/${conversationId}/reply`)
        .send({ messageType: 'template', templateName: template, templateLanguage: 'en', templateParams: ['Avi'] });
      expect(refused.status).toBe(502);
    } finally {
      await js.sim.configure({ failTemplates: {} });
    }

    await page.getByRole('link', { name: 'Delivery', exact: true }).click();
    await page.getByRole('heading', { name: 'Delivery monitor', exact: true }).waitFor();
    const row = page.locator('[data-testid="monitor-message"][data-status="failed"]').filter({ hasText: recipients[1] });
    await row.getByText('131026').waitFor();
    expect(Number(await page.getByTestId('summary-failed').getAttribute('data-value'))).toBeGreaterThanOrEqual(1);

    await page.getByLabel('Stale after (minutes)').fill('-5');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.getByTestId('monitor-filter').getByText('must be a number of minutes above 0, at most 525600').waitFor();
    await page.getByLabel('Stale after (minutes)').fill('');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await expect0(page.getByTestId('monitor-filter').locator('.field-error'));
    await shot('monitor');

    await row.getByRole('button', { name: 'Audit trail', exact: true }).click();
    const audit = page.getByTestId('audit');
    await audit.locator('[data-event="failed"]').getByText('(#131026) Message undeliverable').waitFor();
    await shot('monitor-trail');
    await audit.getByRole('button', { name: 'Close', exact: true }).click();

    await row.getByRole('button', { name: 'Retry', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Retry: 1 queued, 0 refused.' }).waitFor();
    await eventually(
      async () => (await js.sim.messages({ to: recipients[1].slice(1) })).filter((m) => (m.body as { type: string }).type === 'template').length === 2,
      'the retried template at the simulator',
    );
    // Sent this time: it leaves the list of problems by itself.
    await expect0(page.locator('[data-testid="monitor-message"]').filter({ hasText: recipients[1] }), 20_000);
  });

  it("tests the flow from the builder against the WhatsApp simulator, and shows the chat", async () => {
    await page.goto(flowUrl);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const panel = page.getByTestId('test-panel');
    await panel.getByLabel('Test customer’s number').fill('12');
    await panel.getByTestId('test-start').click();
    await panel.getByText('must be a phone number in international format').waitFor();

    const tester = `+1555${String(Date.now() % 10_000_000).padStart(7, '0')}`;
    await panel.getByLabel('Test customer’s number').fill(tester);
    await panel.getByRole('button', { name: `Start: the customer writes “${word}”`, exact: true }).click();
    const chat = panel.getByTestId('test-chat');
    await chat.getByText(word, { exact: true }).waitFor();
    await chat.getByText('Hello from FlowBot! Reply and an agent will answer.').waitFor();
    await panel.getByLabel('The customer says').fill('Thanks, see you!');
    await panel.getByRole('button', { name: 'Send', exact: true }).click();
    await chat.getByText('Thanks, see you!').waitFor();
    await chat.locator('[data-testid="message"][data-status="read"]').waitFor({ timeout: 20_000 });
    expect((await js.sim.messages({ to: tester.slice(1) })).map((m) => (m.body as { text?: { body: string } }).text?.body)).toEqual([
      'Hello from FlowBot! Reply and an agent will answer.',
    ]);
    await shot('flow-test');
  });

  it('switches to Hebrew (right to left) and the dark theme, keeps them after a reload, and signs out', async () => {
    await page.getByLabel('Language').selectOption('he');
    await page.getByLabel('ערכת נושא').selectOption('dark');
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    await page.getByRole('link', { name: 'תיבת שיחות', exact: true }).click();
    await page.getByTestId('conversation').filter({ hasText: 'דנה כהן' }).click();
    await page.getByTestId('messages').getByText('תודה רבה!').waitFor();
    await shot('inbox-he-dark');

    await page.goto(flowUrl);
    await page.locator('[data-testid^="node-send_text"]').waitFor();
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await shot('flow-editor-he-dark');

    await page.getByRole('link', { name: 'תבניות', exact: true }).click();
    await page.getByRole('heading', { name: 'תבניות', exact: true }).waitFor();
    await page.locator(`[data-testid="template-row"][data-name="${template}"]`).getByText('מאושרת').waitFor();
    await scrollToTop();
    await shot('templates-he-dark');
    await page.goto(campaignUrl);
    await page.getByTestId('count-read').getByText('נקראו').waitFor();
    await shot('campaign-he-dark');

    await page.getByRole('button', { name: 'התנתקות', exact: true }).click();
    await page.getByRole('button', { name: 'כניסה', exact: true }).waitFor();
  });
});

async function expect0(locator: Locator, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await locator.count()) === 0, `no ${locator.toString()}`, timeoutMs);
}
