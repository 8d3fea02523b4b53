/**
 * The webhook body, read twice over: first the bytes exactly as they came off the wire (what Meta's
 * signature covers, compressed or not), then, only once the signature holds, the decoded JSON text.
 * Both are capped, so a small compressed body cannot inflate into a huge one.
 */
import type { Request } from 'express';
import getRawBody from 'raw-body';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

const inflaters = { gzip: promisify(gunzip), deflate: promisify(inflate) };

/** Largest body accepted, on the wire and after decompression alike. */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;
export const WEBHOOK_BODY_LIMIT = '1 MB';

export class BodyError extends Error {
  constructor(
    readonly kind: 'too_large' | 'unsupported_encoding' | 'unreadable',
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** The request's bytes as received, never decoded (no inflating, no charset). */
export async function readWireBytes(req: Request): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit: WEBHOOK_BODY_LIMIT_BYTES, length: req.get('content-length') });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new BodyError('too_large', `webhook bodies are limited to ${WEBHOOK_BODY_LIMIT}`);
    throw new BodyError('unreadable', type === 'request.aborted' ? 'the request was aborted' : 'the body could not be read');
  }
}

/** The body Meta meant, from the wire bytes and their `Content-Encoding` (identity, gzip or deflate). */
export async function decodedBody(wire: Buffer, contentEncoding: string | undefined): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return wire;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new BodyError('unsupported_encoding', `Content-Encoding ${encoding.slice(0, 32)} is not supported (identity, gzip, deflate)`);
  }
  try {
    // maxOutputLength stops inflating at the cap instead of allocating whatever the stream claims.
    return await inflaters[encoding === 'deflate' ? 'deflate' : 'gzip'](wire, { maxOutputLength: WEBHOOK_BODY_LIMIT_BYTES });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BodyError('too_large', `webhook bodies are limited to ${WEBHOOK_BODY_LIMIT} after decompression`);
    }
    throw new BodyError('unreadable', `the body is not valid ${encoding}`);
  }
}
