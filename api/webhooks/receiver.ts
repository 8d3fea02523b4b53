/**
 * `/webhooks/whatsapp`: Meta's verification handshake (GET) and its signed deliveries (POST).
 *
 *   wire bytes → HMAC check → decompress (gzip/deflate, capped) → JSON → zod envelope → one Temporal
 *   call per usable change, all awaited → 200 (unusable changes counted, the rest applied); 503 if any
 *   could not be handed over, so Meta delivers again (duplicates are harmless).
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { ApiError, sendError } from '../http/errors';
import { sameSecret } from '../http/constant-time';
import type { Logger } from '../http/logger';
import type { DeliveryOutcome, Metrics } from '../ops/metrics';
import { handOff, type Deliverable } from './handoff';
import { BodyError, decodedBody, readWireBytes } from './body';
import { actionsOf, changeCount, MAX_CHANGES, WABA_OBJECT, webhookEnvelope } from './payload';
import { hasValidSignature, SIGNATURE_HEADER } from './signature';
import type { DriftChecks } from '../sends/drift-check';
import { countMessageActivity, ErrorCodeLabels } from './message-statuses';

export const WEBHOOK_PATH = '/webhooks/whatsapp';

export interface ReceiverDeps {
  config: Config;
  client: Client;
  metrics: Metrics;
  log: Logger;
  callTimeoutMs: number;
  /** Told of each WABA whose account event (offboarding, restriction, ban) is now in Temporal: the send gate drops its memory of it. */
  accountEventHeard?: (wabaId: string) => void;
  /** Asks a READY onboarding to re-read Meta's status when a message status says 131055. */
  drift: DriftChecks;
}

const COUNTED_ANSWER_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Meta's challenges are short numbers; echoing more would make the endpoint a reflector. */
const MAX_CHALLENGE = 1024;
const challengeError = (message: string, problem: string) =>
  new ApiError(400, 'invalid_request', message, [{ in: 'query', path: 'hub.challenge', message: problem }]);

export function webhookRouter(deps: ReceiverDeps): Router {
  const { config, metrics, log } = deps;
  const router = Router();
  const errorCodes = new ErrorCodeLabels();
  const delivered = (outcome: DeliveryOutcome, meta: Record<string, unknown> = {}) => {
    metrics.webhookDeliveries.inc({ outcome });
    if (outcome === 'accepted' || outcome === 'ignored') log.info('webhook delivery', { outcome, ...meta });
    else log.warn('webhook delivery', { outcome, ...meta });
  };

  router.get(WEBHOOK_PATH, (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (mode !== 'subscribe' || typeof token !== 'string' || !sameSecret(token, config.webhookVerifyToken)) {
      log.warn('webhook verification refused', { mode: typeof mode === 'string' ? mode : undefined });
      return sendError(res, new ApiError(403, 'forbidden', 'verification token mismatch'));
    }
    if (typeof challenge !== 'string' || challenge.length === 0) {
      return sendError(res, challengeError('hub.challenge is missing', 'required'));
    }
    if (challenge.length > MAX_CHALLENGE) {
      return sendError(res, challengeError(`hub.challenge is too long (at most ${MAX_CHALLENGE} characters)`, 'too long'));
    }
    log.info('webhook verified');
    res.set('X-Content-Type-Options', 'nosniff').type('text/plain').send(challenge);
  });

  router.post(WEBHOOK_PATH, async (req, res) => {
    // The signature covers the bytes as they came off the wire: compressed ones when Meta compresses.
    let wire: Buffer;
    let raw: Buffer;
    try {
      wire = await readWireBytes(req);
      if (!hasValidSignature(wire, req.get(SIGNATURE_HEADER), config.meta.appSecret)) {
        delivered('unauthorized', { bytes: wire.length, signature: req.get(SIGNATURE_HEADER) ? 'wrong' : 'missing' });
        return sendError(res, new ApiError(401, 'unauthorized', 'missing or invalid X-Hub-Signature-256'));
      }
      // Only a signed body is ever decompressed.
      raw = await decodedBody(wire, req.get('content-encoding'));
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      const [status, code, outcome] =
        err.kind === 'too_large'
          ? ([413, 'payload_too_large', 'too_large'] as const)
          : err.kind === 'unsupported_encoding'
            ? ([415, 'unsupported_media_type', 'malformed'] as const)
            : ([400, 'invalid_request', 'malformed'] as const);
      delivered(outcome, { reason: err.message });
      return sendError(res, new ApiError(status, code, err.message));
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      delivered('malformed', { bytes: raw.length, reason: 'not JSON' });
      return sendError(res, new ApiError(400, 'invalid_request', 'the body is not valid JSON'));
    }
    const envelope = webhookEnvelope.safeParse(json);
    if (!envelope.success) {
      delivered('malformed', { bytes: raw.length, reason: 'not a webhook envelope' });
      return sendError(res, new ApiError(400, 'invalid_request', 'the body is not a webhook envelope (object, entry[].changes[])'));
    }
    const changes = changeCount(envelope.data);
    if (changes > MAX_CHANGES) {
      delivered('too_large', { changes });
      return sendError(res, new ApiError(413, 'payload_too_large', `a delivery carries at most ${MAX_CHANGES} changes over all its entries; this one has ${changes}`));
    }
    if (envelope.data.object !== WABA_OBJECT) {
      // Well-formed and signed, just not ours: acknowledge so Meta does not retry it for days.
      delivered('ignored', { object: envelope.data.object.slice(0, 64) });
      return res.status(200).json({ received: 0, unusable: 0 });
    }

    const actions = actionsOf(envelope.data);
    const deliverable: Deliverable[] = [];
    let unusable = 0;
    let counted = 0;
    for (const action of actions) {
      if (action.kind === 'message_activity') {
        // Statuses and clicks: counted in memory, no Temporal call but the bounded drift check.
        countMessageActivity(metrics, errorCodes, action);
        if (action.notOnboardedCode !== undefined && action.wabaId) deps.drift.ask(action.wabaId, { cause: 'status_webhook', graphCode: action.notOnboardedCode });
        counted++;
      } else if (action.kind === 'ignore' || action.kind === 'invalid') {
        // Retrying cannot fix these: count them, and apply the rest of the delivery.
        metrics.webhookChanges.inc({ event: action.event, outcome: action.kind === 'ignore' ? 'ignored' : 'invalid' });
        if (action.kind === 'invalid') {
          unusable++;
          log.warn('webhook change not usable', { event: action.event, reason: action.reason });
        }
      } else {
        if ('implausibleTime' in action && action.implausibleTime !== undefined) {
          log.warn('webhook time not plausible: the receive time stands in', { event: action.event, wabaId: action.wabaId, time: action.implausibleTime });
        }
        deliverable.push(action);
      }
    }

    if (counted > 0 && counted === actions.length) {
      // Only statuses and clicks (the bulk of Meta's traffic): answered at once, not logged one by one.
      metrics.webhookDeliveries.inc({ outcome: 'accepted' });
      // Written directly: Express's json()/send() (content-type parsing, freshness check) cost a
      // measurable share of this path's time, and the answer is always this small object.
      res.writeHead(200, COUNTED_ANSWER_HEADERS).end(`{"received":${actions.length},"unusable":0}`);
      return;
    }

    // The same change twice in one delivery is one signal: a copy would only grow the run's history.
    const seen = new Set<string>();
    const unique = deliverable.filter((action) => {
      const key = JSON.stringify(action);
      if (seen.has(key)) {
        metrics.webhookChanges.inc({ event: action.event, outcome: 'duplicate' });
        return false;
      }
      seen.add(key);
      return true;
    });
    const duplicates = deliverable.length - unique.length;

    const results = await handOff(
      { client: deps.client, config, callTimeoutMs: deps.callTimeoutMs, timeTemporal: metrics.timeTemporal },
      unique,
    );
    for (const r of results) metrics.webhookChanges.inc({ event: r.action.event, outcome: r.outcome });
    // Once the signal is in, this process's next send reads the onboarding again instead of sending on
    // what it remembered (an offboarded WABA went through /marketing_messages for the cache's TTL).
    for (const r of results) if (r.outcome === 'signalled' && r.action.kind === 'account_event') deps.accountEventHeard?.(r.action.wabaId);
    const failed = results.filter((r) => r.outcome === 'failed');
    const summary = {
      changes: actions.length,
      handedOver: results.length - failed.length,
      noOnboarding: results.filter((r) => r.outcome === 'no_onboarding').length,
      ignored: actions.length - deliverable.length - unusable - counted,
      counted,
      unusable,
      duplicates,
      wabas: [...new Set(deliverable.map((a) => a.wabaId))].slice(0, 20),
    };
    if (failed.length) {
      const first = failed[0] as { error: unknown };
      delivered('unavailable', {
        ...summary,
        failed: failed.length,
        error: first.error instanceof Error ? `${first.error.name}: ${first.error.message}` : String(first.error),
      });
      // Meta retries non-2xx deliveries: everything in this one is safe to apply twice.
      return sendError(res, new ApiError(503, 'temporal_unavailable', 'could not hand every change to Temporal; retry'));
    }
    delivered(deliverable.length || counted ? 'accepted' : 'ignored', summary);
    res.status(200).json({ received: actions.length, unusable });
  });

  return router;
}
