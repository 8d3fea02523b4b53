/**
 * Webhook receiver throughput, against a bare Express handler on the same machine in the same run.
 *
 *   npm run bench:webhooks -- [--duration 10] [--connections 20] [--wabas 50]
 *   (or: npx tsx bench/webhooks.ts ...; TEMPORAL_ADDRESS=host:port uses that server instead of a fresh dev server)
 *
 * The app runs in-process with a real Temporal client against a real dev server, so every 200 means
 * the change was durably handed to Temporal (signal-with-start). No worker runs: this measures the
 * receiver and the hand-over, not the workflow. Bodies are signed MM_LITE_TERMS_SIGNED deliveries
 * for `--wabas` WABAs, so most are duplicates signalling an existing run, as Meta's retries would.
 * Everything stays on 127.0.0.1 and each phase is bounded by --duration.
 *
 * A third phase sends signed `messages` deliveries (10 message statuses each, `marketing_lite`, as Meta
 * sends them after MM API sends) to the same receiver: these are only counted, so the target is at
 * least 50 % of the bare handler's throughput and zero Temporal calls during the phase (every gRPC call
 * of the app's Temporal connection is counted by an interceptor). It runs three times, each right after
 * a bare run of its own, and the median of the three ratios is the figure.
 */
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { autocannon, boundedInt, close, listen, urlOf, type AutocannonRequest, type AutocannonResult } from './common';
import express from 'express';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

import { InterceptingCall } from '@grpc/grpc-js';

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];
import { loadConfig } from '../config';
import { createApp } from '../api/app';
import { silentLogger } from '../api/http/logger';
import { WEBHOOK_PATH } from '../api/webhooks/receiver';
import { signatureOf } from '../api/webhooks/signature';
import { startDevServer, type DevServer } from '../scripts/dev-server';


const APP_SECRET = 'bench-app-secret';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    wabas: { type: 'string', default: '50' },
  },
});
const duration = boundedInt(args.duration, 1, 120, 'duration');
/** The messages phase is measured this many times, each against a bare run of its own; the median counts. */
const STATUS_ROUNDS = 3;
const connections = boundedInt(args.connections, 1, 256, 'connections');
const wabaCount = boundedInt(args.wabas, 1, 10_000, 'wabas');


/** One signed terms delivery per WABA, as Meta would send it. */
function signedDeliveries(): AutocannonRequest[] {
  const time = Math.floor(Date.now() / 1000);
  return Array.from({ length: wabaCount }, (_, i) => {
    const wabaId = String(910_000_000_000_000 + i);
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '900000000000001',
          time,
          changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: wabaId, owner_business_id: '920000000000001' } } }],
        },
      ],
    });
    return {
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(Buffer.from(body), APP_SECRET) },
      body,
    };
  });
}




/** One signed `messages` delivery per WABA: 10 statuses of MM API sends (sent, delivered, read...). */
function signedStatusDeliveries(): AutocannonRequest[] {
  const order = ['sent', 'delivered', 'read'];
  return Array.from({ length: wabaCount }, (_, i) => {
    const wabaId = String(910_000_000_000_000 + i);
    const statuses = Array.from({ length: 10 }, (_, j) => ({
      id: `wamid.bench-${i}-${j}`,
      status: order[j % 3],
      timestamp: String(Math.floor(Date.now() / 1000)),
      recipient_id: '15550001111',
      conversation: { id: `conv-${i}-${j}`, origin: { type: 'marketing_lite' } },
      pricing: { billable: true, pricing_model: 'PMP', category: 'marketing_lite', type: 'regular' },
    }));
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: wabaId,
          changes: [
            { field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: String(930_000_000_000_000 + i) }, statuses } },
          ],
        },
      ],
    });
    return {
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(Buffer.from(body), APP_SECRET) },
      body,
    };
  });
}

/** Every gRPC call the app's Temporal connection makes. */
let temporalCalls = 0;
const countTemporalCalls: GrpcInterceptor = (options, nextCall) => {
  temporalCalls++;
  return new InterceptingCall(nextCall(options));
};

/**
 * Waits until the app's Temporal calls stop (no new one for 500 ms, at most 10 s): requests still in
 * the server when a phase's clients stop finish their hand-offs afterwards and must not count in the next phase.
 */
async function temporalCallsSettled(): Promise<void> {
  const end = Date.now() + 10_000;
  for (let last = -1; temporalCalls !== last && Date.now() < end; ) {
    last = temporalCalls;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function summary(name: string, r: AutocannonResult) {
  return {
    name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    'max ms': r.latency.max,
    '2xx': r['2xx'],
    'non-2xx': r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

async function main() {
  let devServer: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (devServer = await startDevServer({ readyTimeoutMs: 120_000 })).address;
  const connection = await Connection.connect({
    address,
    interceptors: [countTemporalCalls, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())],
  });
  const servers: Server[] = [];
  try {
    const config = loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: `bench-webhooks-${Date.now()}`,
      META_ACCESS_TOKEN: 'bench-token',
      META_APP_ID: 'bench-app',
      META_APP_SECRET: APP_SECRET,
      WEBHOOK_VERIFY_TOKEN: 'bench-verify',
      API_KEYS: 'bench-key',
    });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const requests = signedDeliveries();

    const bare = express();
    bare.post(WEBHOOK_PATH, express.raw({ type: () => true, limit: '1mb' }), (_req, res) => {
      res.sendStatus(200);
    });
    const bareServer = await listen(bare);
    servers.push(bareServer);
    const appServer = await listen(createApp({ config, client, log: silentLogger }));
    servers.push(appServer);

    console.log(
      `webhook bench: ${duration} s per phase, ${connections} connections, ${wabaCount} WABAs, Temporal at ${address}` +
        `${devServer ? ' (fresh dev server)' : ''}, node ${process.version}`,
    );
    // A short warm-up of each (JIT, connection pools, the first signal-with-starts), not measured.
    for (const server of [bareServer, appServer]) {
      await autocannon({ url: urlOf(server), connections, duration: 1, requests });
    }
    const statusRequests = signedStatusDeliveries();
    await autocannon({ url: urlOf(appServer), connections, duration: 1, requests: statusRequests });
    const bareResult = await autocannon({ url: urlOf(bareServer), connections, duration, requests });
    const appResult = await autocannon({ url: urlOf(appServer), connections, duration, requests });
    await temporalCallsSettled();
    // The messages phase three times, each right after a bare run of its own (a machine's load drifts
    // over a minute): the median of the three ratios is the figure, not one lucky or unlucky run.
    const rounds: Array<{ bare: AutocannonResult; status: AutocannonResult; calls: number; ratio: number }> = [];
    for (let round = 0; round < STATUS_ROUNDS; round++) {
      const roundBare = round === 0 ? bareResult : await autocannon({ url: urlOf(bareServer), connections, duration, requests });
      await temporalCallsSettled();
      const callsBefore = temporalCalls;
      const status = await autocannon({ url: urlOf(appServer), connections, duration, requests: statusRequests });
      const calls = temporalCalls - callsBefore;
      rounds.push({ bare: roundBare, status, calls, ratio: status.requests.average / roundBare.requests.average });
    }

    console.table([
      summary('bare express.raw + 200', bareResult),
      summary('mm-onboarding receiver', appResult),
      ...rounds.map((r, i) => summary(`receiver, messages (10 statuses), round ${i + 1}`, r.status)),
    ]);
    const ratio = appResult.requests.average / bareResult.requests.average;
    console.log(`receiver / bare throughput: ${(ratio * 100).toFixed(1)} % (each 200 = a signal durably in Temporal)`);
    const ratios = rounds.map((r) => r.ratio);
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    const medianRound = rounds.find((r) => r.ratio === median)!;
    const statusPhaseCalls = rounds.reduce((n, r) => n + r.calls, 0);
    console.log(
      `messages deliveries / bare throughput, median of ${rounds.length}: ${(median * 100).toFixed(1)} % (target >= 50 %; rounds: ` +
        `${ratios.map((x) => `${(x * 100).toFixed(1)} %`).join(', ')}), ${Math.round(medianRound.status.requests.average * 10)} statuses/s, ` +
        `Temporal calls during the phases: ${statusPhaseCalls} (target 0)`,
    );
    if (appResult.non2xx || appResult.errors || appResult.timeouts) process.exitCode = 1;
    if (rounds.some((r) => r.status.non2xx || r.status.errors || r.status.timeouts) || statusPhaseCalls > 0) process.exitCode = 1;
  } finally {
    for (const server of servers) await close(server);
    await connection.close();
    await devServer?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
