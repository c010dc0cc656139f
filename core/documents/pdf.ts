import { Worker } from 'node:worker_threads';

/**
 * A PDF's text, page by page. PDF.js (through unpdf) is an ES module jest's CommonJS runtime cannot load, so it
 * runs in a worker thread, which also keeps a hostile or huge PDF away from the process: its own heap limit,
 * and a deadline after which it is terminated.
 */

export class UnreadablePdf extends Error {
  constructor(readonly reason: string) {
    super(`not a readable PDF (${reason})`);
    this.name = 'UnreadablePdf';
  }
}

const extractorSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { extractText, getDocumentProxy } = require(workerData.unpdfPath);
(async () => {
  const pdf = await getDocumentProxy(new Uint8Array(workerData.bytes), { isEvalSupported: false });
  const { text } = await extractText(pdf, { mergePages: false });
  parentPort.postMessage({ ok: true, pages: text });
})().catch((err) => parentPort.postMessage({ ok: false, error: String((err && err.message) || err) }));
`;

export async function readPdfPages(data: Buffer, opts: { timeoutMs: number; maxHeapMb: number }): Promise<string[]> {
  const worker = new Worker(extractorSource, {
    eval: true,
    workerData: { unpdfPath: require.resolve('unpdf'), bytes: data },
    resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb },
  });
  try {
    const result = await new Promise<{ ok: true; pages: string[] } | { ok: false; error: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: `took longer than ${opts.timeoutMs / 1000} s to read` }), opts.timeoutMs);
      worker.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, error: err.message });
      });
    });
    if (!result.ok) throw new UnreadablePdf(result.error.slice(0, 200));
    // PostgreSQL's text cannot hold NUL, and PDF.js leaves some in.
    return result.pages.map((page) => page.replace(/\u0000/g, ''));
  } finally {
    await worker.terminate();
  }
}
