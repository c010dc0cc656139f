import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { uniqueIp } from '../support/accounts';
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
    try {
      await page.waitForFunction(`document.querySelectorAll('.react-flow__edge').length > ${before}`, undefined, { timeout: 2000 });
      return;
    } catch (err) {
      if (attempt === 5) throw err;
    }
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

    // A new customer message appears without reloading the page.
    await js.sim.inbound({ from: customer, phoneNumberId: js.line.phoneNumberId, text: 'תודה רבה!', name: 'דנה כהן' });
    await page.getByTestId('messages').getByText('תודה רבה!').waitFor();
    await shot('inbox-reply');
  });

  it('settings show the line and issue an API key once; users are listed for the owner', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByTestId('lines').getByText(js.line.phoneNumberId).waitFor();
    await page.getByRole('button', { name: 'Connect a line', exact: true }).click();
    await page.getByTestId('lines').getByText("must be Meta's phone number id (digits only)").waitFor();
    await page.getByRole('button', { name: 'Issue a new API key', exact: true }).click();
    const key = await page.getByTestId('new-key').locator('code').textContent();
    expect(key).toMatch(/\S{20,}/);
    await shot('settings');

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users').getByRole('cell', { name: js.owner.user.username, exact: true }).first().waitFor();
    await shot('users');
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

    await page.getByRole('button', { name: 'התנתקות', exact: true }).click();
    await page.getByRole('button', { name: 'כניסה', exact: true }).waitFor();
  });
});

async function expect0(locator: Locator): Promise<void> {
  await eventually(async () => (await locator.count()) === 0, `no ${locator.toString()}`, 5000);
}
