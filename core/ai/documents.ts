import { Worker } from 'node:worker_threads';
import { AppError } from '../errors';

/**
 * Files given to flow generation: what they are (by their first bytes, not by what the client says), and
 * a PDF's text.
 */

export const imageTypes = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof imageTypes)[number];
export type GenerationFileType = 'application/pdf' | ImageType;

export function sniffFileType(data: Buffer): GenerationFileType | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => data[i] === b);
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a') return 'image/gif';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

/** Text beyond this is cut: about 15 000 tokens, plenty to design a flow from. */
export const maxDocumentChars = 60_000;

/**
 * unpdf (PDF.js) loads PDF.js as an ES module, which jest's CommonJS runtime cannot, so it runs in a worker
 * thread — which also keeps a hostile or huge PDF away from the process: it gets its own heap limit and is
 * terminated when it takes too long.
 */
const extractorSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { extractText, getDocumentProxy } = require(workerData.unpdfPath);
(async () => {
  const pdf = await getDocumentProxy(new Uint8Array(workerData.bytes), { isEvalSupported: false });
  const { totalPages, text } = await extractText(pdf, { mergePages: true });
  parentPort.postMessage({ ok: true, pages: totalPages, text });
})().catch((err) => parentPort.postMessage({ ok: false, error: String((err && err.message) || err) }));
`;

export interface ExtractedPdf {
  pages: number;
  text: string;
  truncated: boolean;
}

/** A PDF's text, or a 400 that says why there is none (unreadable, or scanned without a text layer). */
export async function extractPdfText(data: Buffer, opts: { timeoutMs?: number } = {}): Promise<ExtractedPdf> {
  const worker = new Worker(extractorSource, {
    eval: true,
    workerData: { unpdfPath: require.resolve('unpdf'), bytes: data },
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  try {
    const result = await new Promise<{ ok: true; pages: number; text: string } | { ok: false; error: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('invalid', 'file: the PDF took too long to read')), opts.timeoutMs ?? 20_000);
      worker.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, error: err.message });
      });
    });
    if (!result.ok) throw new AppError('invalid', `file: not a readable PDF (${result.error.slice(0, 200)})`);
    const text = result.text.replace(/\u0000/g, '').trim();
    if (!text) throw new AppError('invalid', 'file: the PDF has no text (a scanned document?): send the pages as an image, or put the text in the prompt');
    return { pages: result.pages, text: text.slice(0, maxDocumentChars), truncated: text.length > maxDocumentChars };
  } finally {
    await worker.terminate();
  }
}
