import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { apiTokenFor, signedInAccount, type TestAccount } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';
import { tinyPdf, tinyPng } from '../support/tiny-pdf';

let stack: TestStack;
/** The same API with small limits: 1 KB files, PDF and plain text only. */
let strict: TestStack;
let owner: TestAccount;

beforeAll(async () => {
  [stack, strict] = await Promise.all([openTestStack(), openTestStack({ UPLOAD_MAX_BYTES: '1024', UPLOAD_ALLOWED_TYPES: 'application/pdf, text/plain' })]);
  owner = await signedInAccount(stack);
});
afterAll(async () => {
  await stack?.close();
  await strict?.close();
});

const upload = (account: TestAccount, data: Buffer, filename: string, contentType: string) =>
  account.agent.post('/api/upload').attach('file', data, { filename, contentType });

const uploadRows = async (tenantId: string) =>
  Number((await stack.orm.em.getConnection().execute<Array<{ n: string }>>(`select count(*) as n from uploads where tenant_id = ?`, [tenantId]))[0].n);

describe('POST /api/upload', () => {
  it('stores the file under DATA_DIR/uploads and answers its id, download URL and metadata', async () => {
    const pdf = tinyPdf(['Price list', 'Sourdough 6 USD']);
    const res = await upload(owner, pdf, 'prices.pdf', 'application/pdf');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      success: true,
      file: {
        id: expect.any(String),
        filename: 'prices.pdf',
        contentType: 'application/pdf',
        sizeBytes: pdf.length,
        sha256: createHash('sha256').update(pdf).digest('hex'),
        url: `/api/upload/${res.body.file.id}`,
        createdAt: expect.any(String),
      },
    });
    const onDisk = path.join(stack.deps.config.dataDir, 'uploads', owner.user.tenantId, res.body.file.id);
    expect(fs.readFileSync(onDisk)).toEqual(pdf);

    const download = await owner.agent.get(res.body.file.url).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(download.status).toBe(200);
    expect(download.body).toEqual(pdf);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toBe("attachment; filename*=UTF-8''prices.pdf");
    expect(download.headers['x-content-type-options']).toBe('nosniff');
  });

  it('judges the type by the bytes, not by the name or the declared type', async () => {
    const png = await upload(owner, tinyPng(), 'notes.txt', 'text/plain');
    expect(png.status).toBe(201);
    expect(png.body.file.contentType).toBe('image/png');

    const markdown = await upload(owner, Buffer.from('# Menu\n\nPizza'), 'menu.md', 'application/octet-stream');
    expect(markdown.body.file.contentType).toBe('text/markdown');
    const html = await upload(owner, Buffer.from('<!DOCTYPE html><html><body>Hi</body></html>'), 'page', 'application/octet-stream');
    expect(html.body.file.contentType).toBe('text/html');

    const before = await uploadRows(owner.user.tenantId);
    const binary = await upload(owner, Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04]), 'report.pdf', 'application/pdf');
    expect(binary.status).toBe(415);
    expect(binary.body.error).toMatch(/^file: unrecognised file type; accepted: application\/pdf, /);
    expect(await uploadRows(owner.user.tenantId)).toBe(before);
  });

  it('keeps only the base name of a file name that carries a path', async () => {
    const res = await upload(owner, Buffer.from('hello'), '../../etc/passwd.txt', 'text/plain');
    expect(res.status).toBe(201);
    expect(res.body.file.filename).toBe('passwd.txt');
    expect(fs.existsSync(path.join(stack.deps.config.dataDir, 'uploads', owner.user.tenantId, res.body.file.id))).toBe(true);
  });

  it('refuses a file over UPLOAD_MAX_BYTES with 413 and a type outside UPLOAD_ALLOWED_TYPES with 415, storing nothing', async () => {
    const account = await signedInAccount(strict);
    const big = await account.agent.post('/api/upload').attach('file', Buffer.alloc(5000, 'a'), { filename: 'big.txt', contentType: 'text/plain' });
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('file: the file is larger than 1024 bytes');

    const html = await account.agent.post('/api/upload').attach('file', Buffer.from('<html><body>x</body></html>'), { filename: 'x.html', contentType: 'text/html' });
    expect(html.status).toBe(415);
    expect(html.body.error).toBe('file: text/html files are not accepted; accepted: application/pdf, text/plain');

    const text = await account.agent.post('/api/upload').attach('file', Buffer.from('small'), { filename: 'x.txt', contentType: 'text/plain' });
    expect(text.status).toBe(201);
    expect(await uploadRows(account.user.tenantId)).toBe(1);
  });

  it('answers 400 without a file, or with an empty one', async () => {
    const none = await owner.agent.post('/api/upload').field('name', 'x');
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/file: required/);
    const json = await owner.agent.post('/api/upload').send({ file: 'aGVsbG8=' });
    expect(json.status).toBe(400);
    const empty = await upload(owner, Buffer.alloc(0), 'empty.txt', 'text/plain');
    expect(empty.status).toBe(400);
  });

  it('accepts an API Bearer token, and needs authentication', async () => {
    const token = await apiTokenFor(stack, owner.user);
    const res = await stack.http().post('/api/upload').set('Authorization', `Bearer ${token}`).attach('file', Buffer.from('via the API'), { filename: 'api.txt', contentType: 'text/plain' });
    expect(res.status).toBe(201);
    expect((await stack.http().post('/api/upload').attach('file', Buffer.from('x'), 'x.txt')).status).toBe(401);
    expect((await stack.http().get(`/api/upload/${res.body.file.id}`)).status).toBe(401);
  });

  it('serves a file to its own account only', async () => {
    const res = await upload(owner, Buffer.from('private notes'), 'private.txt', 'text/plain');
    const outsider = await signedInAccount(stack);
    const other = await outsider.agent.get(`/api/upload/${res.body.file.id}`);
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ error: 'File not found' });
    expect((await owner.agent.get(`/api/upload/${res.body.file.id}`)).status).toBe(200);
    expect((await owner.agent.get('/api/upload/not-a-uuid')).status).toBe(400);
  });
});
