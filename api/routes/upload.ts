import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Upload } from '../../core/db/entities';
import { AppError } from '../../core/errors';
import { findUpload, readUploadBytes, saveUpload } from '../../core/uploads/store';
import type { ApiDeps } from '../deps';
import { multipartBody, type UploadedFile } from '../middleware/multipart';
import { idParams, route } from '../route';

/**
 * POST /api/upload stores a file for the account (knowledge-base documents, media); GET /api/upload/{id}
 * gives it back to the same account only. Files are kept under DATA_DIR/uploads.
 */

export const uploadSchema = z.object({
  id: z.string().uuid(),
  filename: z.string(),
  contentType: z.string().meta({ description: 'Detected from the file’s bytes, not from what the client declared' }),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  url: z.string().meta({ description: 'Where the account can download it (GET, same authentication)' }),
  createdAt: z.string(),
});

export function presentUpload(upload: Upload, publicUrl?: string): z.infer<typeof uploadSchema> {
  return {
    id: upload.id,
    filename: upload.filename,
    contentType: upload.contentType,
    sizeBytes: upload.sizeBytes,
    sha256: upload.sha256,
    url: `${publicUrl?.replace(/\/$/, '') ?? ''}/api/upload/${upload.id}`,
    createdAt: upload.createdAt.toISOString(),
  };
}

/** The one file of a multipart request, or a 400 naming the field. */
export function requiredFile(files: UploadedFile[] | undefined): UploadedFile {
  const file = files?.[0];
  if (!file) throw new AppError('invalid', 'Invalid body: file: required (send the file as multipart/form-data field "file")');
  return file;
}

export function uploadRoutes(deps: ApiDeps) {
  const { uploads, publicUrl } = deps.config;
  const tag = 'Files';
  return [
    route({
      method: 'post',
      path: '/api/upload',
      tag,
      summary: 'Upload a file',
      description:
        `multipart/form-data with one \`file\` of at most ${uploads.maxBytes} bytes, of one of these types (judged by its bytes): ` +
        `${uploads.allowedTypes.join(', ')}. Its id can then be added to the knowledge base (POST /api/knowledge-base {"uploadId"}).`,
      auth: 'user',
      body: z.object({ file: z.unknown().optional().meta({ type: 'string', format: 'binary', description: 'The file' }) }),
      bodyContentType: 'multipart/form-data',
      before: [multipartBody({ fileFields: ['file'], maxFileBytes: uploads.maxBytes })],
      responses: {
        201: { description: 'Stored', schema: z.object({ success: z.literal(true), file: uploadSchema }) },
        400: { description: 'No file, or an empty one' },
        413: { description: 'The file is too large' },
        415: { description: 'The file’s type is not accepted' },
      },
      async handler(ctx, { principal }) {
        const file = requiredFile(ctx.state.files);
        const upload = await saveUpload(ctx.state.em as EntityManager, uploads, {
          tenantId: principal!.tenantId,
          userId: principal!.userId,
          filename: file.filename,
          declaredType: file.declaredType,
          data: file.data,
        });
        ctx.status = 201;
        return { success: true as const, file: presentUpload(upload, publicUrl) };
      },
    }),
    route({
      method: 'get',
      path: '/api/upload/:id',
      tag,
      summary: 'Download an uploaded file of the account',
      auth: 'user',
      params: idParams,
      responses: {
        200: { description: 'The file, as an attachment', contentType: 'application/octet-stream' },
        404: { description: 'No file with this id in your account' },
      },
      async handler(ctx, { params, principal }) {
        const upload = await findUpload(ctx.state.em as EntityManager, principal!.tenantId, params.id);
        let data: Buffer;
        try {
          data = await readUploadBytes(uploads, upload);
        } catch {
          throw new AppError('not_found', 'File not found: it is no longer in the upload store');
        }
        ctx.type = upload.contentType;
        // Served from the API's own origin: never rendered in place, so an uploaded HTML page cannot run script
        // with the account's session.
        ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(upload.filename)}`);
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.set('Content-Security-Policy', "sandbox; default-src 'none'");
        ctx.body = data;
      },
    }),
  ];
}
