/**
 * A Temporal codec server for operators (`POST /codec/decode`): the Web UI and the `temporal` CLI
 * send it the payloads they are about to show, and it answers them with every sealed secret
 * (`sealed:v1:…`, see secrets/sealing.ts) opened, so an operator holding a CODEC_KEYS key sees
 * the Embedded Signup code or token in plain text. Without a valid key the answer is 401 and the UI
 * keeps showing the ciphertext. Only JSON payloads are touched; everything else passes unchanged.
 *
 * There is no `/encode`: this service never encrypts whole payloads, so nothing needs re-encoding.
 */
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { isSealed, unseal } from '../../secrets/sealing';
import { requireApiKey } from '../http/api-key-auth';
import { validate } from '../http/validate';
import { ApiError, sendError } from '../http/errors';
import type { Logger } from '../http/logger';

export const CODEC_PATH = '/codec';

const payload = z.looseObject({
  metadata: z.record(z.string(), z.string()).optional(),
  data: z.string().optional(),
});
const decodeBody = z.strictObject({ payloads: z.array(payload).max(10_000) });
type Payload = z.infer<typeof payload>;

const JSON_ENCODING = Buffer.from('json/plain').toString('base64');

export interface CodecDeps {
  keys: readonly string[];
  corsOrigins: readonly string[];
  sealingKey: Buffer;
  log: Logger;
}

/** The Web UI calls from the browser, so the allowed UI origins get CORS headers (preflight included). */
function cors(origins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && origins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') return void res.sendStatus(204);
    next();
  };
}

export function codecRouter({ keys, corsOrigins, sealingKey, log }: CodecDeps): Router {
  const router = Router();
  router.use(CODEC_PATH, cors(corsOrigins));
  router.post(
    `${CODEC_PATH}/decode`,
    requireApiKey(keys, log),
    express.json({ limit: '4mb' }),
    (req, res) => {
      let body: z.infer<typeof decodeBody>;
      try {
        body = validate(decodeBody, req.body, 'body');
      } catch (err) {
        return sendError(res, err as ApiError);
      }
      let opened = 0;
      const payloads = body.payloads.map((p) => {
        const { payload: out, count } = unsealPayload(p, sealingKey);
        opened += count;
        return out;
      });
      // Who saw secrets is worth an audit line; the secrets themselves never reach the log.
      if (opened) log.info('codec opened sealed values', { namespace: req.get('x-namespace'), opened });
      res.json({ payloads });
    },
  );
  return router;
}

/** Opens every sealed string inside one JSON payload; values that do not open stay sealed. */
export function unsealPayload(p: Payload, sealingKey: Buffer): { payload: Payload; count: number } {
  if (p.metadata?.encoding !== JSON_ENCODING || p.data === undefined) return { payload: p, count: 0 };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
  } catch {
    return { payload: p, count: 0 };
  }
  let count = 0;
  const open = (v: unknown): unknown => {
    if (isSealed(v)) {
      try {
        const plain = unseal(v, sealingKey);
        count++;
        return plain;
      } catch {
        return v; // sealed under another app secret: shown as it is
      }
    }
    if (Array.isArray(v)) return v.map(open);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, open(x)]));
    return v;
  };
  const opened = open(value);
  if (count === 0) return { payload: p, count };
  return { payload: { ...p, data: Buffer.from(JSON.stringify(opened)).toString('base64') }, count };
}
