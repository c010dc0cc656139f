import busboy from 'busboy';
import type { Middleware } from 'koa';
import { AppError } from '../../core/errors';

export interface UploadedFile {
  field: string;
  filename: string;
  /** What the client declared; check the bytes before trusting it. */
  declaredType: string;
  data: Buffer;
}

/**
 * Reads a multipart/form-data body (the JSON body middleware passes these through): text fields become
 * `ctx.request.body`, for the route's zod schema like a JSON body; files go to `ctx.state.files`. Files are
 * held in memory, so their size is capped while streaming: a larger file is a 413 naming the limit, and
 * nothing is read past the cap. Other content types pass through untouched.
 */
export function multipartBody(opts: { fileFields: string[]; maxFileBytes: number; maxFieldBytes?: number }): Middleware {
  return async (ctx, next) => {
    if (!ctx.is('multipart/form-data')) return next();
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    await new Promise<void>((resolve, reject) => {
      let failure: AppError | undefined;
      const fail = (err: AppError) => (failure ??= err);
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: ctx.req.headers,
          // Browsers and HTTP clients send file names as raw UTF-8 (a Hebrew name stays readable); busboy's default is latin1.
          defParamCharset: 'utf8',
          limits: { files: opts.fileFields.length, fileSize: opts.maxFileBytes, fields: 20, fieldSize: opts.maxFieldBytes ?? 64 * 1024, parts: 30 },
        });
      } catch (err) {
        reject(new AppError('invalid', `Malformed multipart body: ${(err as Error).message}`));
        return;
      }
      parser.on('field', (name, value, info) => {
        if (info.valueTruncated) fail(new AppError('too_large', `${name}: larger than ${opts.maxFieldBytes ?? 64 * 1024} bytes`));
        fields[name] = value;
      });
      parser.on('file', (field, stream, info) => {
        if (!opts.fileFields.includes(field)) {
          fail(new AppError('invalid', `Invalid body: ${field}: unexpected file (files are accepted in: ${opts.fileFields.join(', ')})`));
          stream.resume();
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () => fail(new AppError('too_large', `${field}: the file is larger than ${opts.maxFileBytes} bytes`)));
        stream.on('close', () => {
          const data = Buffer.concat(chunks);
          if (data.length > 0) files.push({ field, filename: info.filename ?? field, declaredType: info.mimeType, data });
        });
      });
      parser.on('filesLimit', () => fail(new AppError('invalid', `Invalid body: at most ${opts.fileFields.length} file(s)`)));
      parser.on('error', (err: Error) => reject(failure ?? new AppError('invalid', `Malformed multipart body: ${err.message}`)));
      parser.on('close', () => (failure ? reject(failure) : resolve()));
      ctx.req.pipe(parser);
    });
    ctx.request.body = fields;
    ctx.state.files = files;
    return next();
  };
}

