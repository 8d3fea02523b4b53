/**
 * Temporal unreachable: the receiver answers 503 within its deadline (so Meta retries), and the very
 * same delivery is accepted once Temporal is back. Runs on a dev server of its own, which it stops
 * and restarts on the same port.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../../config';
import { createApp } from '../../../api/app';
import { signatureOf } from '../../../api/webhooks/signature';
import { startDevServer, freePort, type DevServer } from '../../../scripts/dev-server';
import { onboardingWorkflowId } from '../../../workflows/types';
import { termsSignedSignal } from '../../../workflows/messages';
import { capturingLogger, eventually, webhookBody } from '../../harness/app-harness';
import { checkedAgent, servedDocumentChecker } from '../../harness/openapi-check';

const APP_SECRET = 'down-test-app-secret';
const CALL_TIMEOUT_MS = 4_000;

let server: DevServer | undefined;
let connection: Connection;
let port: number;

beforeAll(async () => {
  port = await freePort();
  server = await startDevServer({ port, readyTimeoutMs: 120_000 });
  connection = await Connection.connect({ address: server.address });
}, 150_000);

afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

test('Temporal down: 503 within the deadline, then the same delivery succeeds once it is back', async () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TASK_QUEUE: 'down-test',
    META_ACCESS_TOKEN: 'token',
    META_APP_ID: 'app',
    META_APP_SECRET: APP_SECRET,
    WEBHOOK_VERIFY_TOKEN: 'verify',
    API_KEYS: 'key',
  });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const logs = capturingLogger();
  const app = createApp({ config, client, log: logs, timeouts: { callMs: CALL_TIMEOUT_MS, queryMs: CALL_TIMEOUT_MS } });
  const openApi = await servedDocumentChecker(request(app));

  const wabaId = '104000000000001';
  const body = webhookBody([
    {
      id: '900000000000001',
      time: 1_760_000_000,
      changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: wabaId, owner_business_id: '200000000000001' } } }],
    },
  ]);
  const deliver = () =>
    request(app).post('/webhooks/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signatureOf(Buffer.from(body), APP_SECRET)).send(body);

  await server!.stop();
  server = undefined;

  const startedAt = Date.now();
  const down = await deliver();
  expect(down.status).toBe(503);
  expect(down.body.error.code).toBe('temporal_unavailable');
  // At the deadline (plus api/http/temporal-deadline.ts's 1 s grace), not after the client's current retry backoff
  // (up to 5 s more: about 5.6 s for 4 s).
  expect(Date.now() - startedAt).toBeLessThan(CALL_TIMEOUT_MS + 2_000);
  expect((await request(app).get('/readyz')).status).toBe(503);
  // The partner API says the same, in its usual (documented) error body, within one deadline: the
  // state lookup's fallback shares the query's deadline instead of adding its own.
  const apiStartedAt = Date.now();
  const api = await checkedAgent(request(app), openApi).get(`/v1/onboardings/${wabaId}`).set('Authorization', 'Bearer key');
  expect(api.status).toBe(503);
  expect(api.body.error.code).toBe('temporal_unavailable');
  // Two deadlines back to back (the old lookup) take at least 2 × CALL_TIMEOUT_MS = 8 s; one took 4.6 s
  // on an idle machine (the webhook's one call: 4.3 s).
  expect(Date.now() - apiStartedAt).toBeLessThan(1.5 * CALL_TIMEOUT_MS);
  expect(logs.lines.some((l) => l.message === 'webhook delivery' && l.meta?.outcome === 'unavailable')).toBe(true);

  server = await startDevServer({ port, readyTimeoutMs: 120_000 });

  // Meta retries with backoff; the client's channel reconnects on its own.
  const up = await eventually(async () => {
    const res = await deliver();
    return res.status === 200 ? res : undefined;
  }, 45_000, 'the delivery to be accepted');
  expect(up.body).toEqual({ received: 1, unusable: 0 });
  expect((await request(app).get('/readyz')).status).toBe(200);

  // Durably handed over: the onboarding exists, started by the webhook, with the signal in its history.
  const history = await client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toEqual([termsSignedSignal.name]);
}, 120_000);

test('a dev server whose port stays taken gives up after a bounded number of starts', async () => {
  const taken = await freePort();
  const holder = require('node:net').createServer().listen(taken, '127.0.0.1');
  const lines: string[] = [];
  try {
    await expect(startDevServer({ port: taken, readyTimeoutMs: 60_000, log: (l) => lines.push(l) })).rejects.toThrow(/exited with code/);
  } finally {
    holder.close();
  }
  // One start, then two more after "address already in use": never an unbounded loop.
  expect(lines.filter((l) => l.includes('starting again'))).toEqual([
    'a port was taken before the dev server bound it; starting again (attempt 2 of 3)',
    'a port was taken before the dev server bound it; starting again (attempt 3 of 3)',
  ]);
}, 120_000);
