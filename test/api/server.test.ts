/**
 * The HTTP server `npm start` runs (api/server.ts): sockets that send their request too slowly are
 * closed within seconds, and what Node answers on its own still carries the API's JSON error body.
 * Driven over raw loopback sockets, every wait bounded. No route here needs Temporal, so the app's
 * client points at a port nothing listens on.
 */
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../config';
import { createApp } from '../../api/app';
import { listen, SERVER_LIMITS } from '../../api/server';
import { capturingLogger } from '../harness/app-harness';

let server: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    META_ACCESS_TOKEN: 'token',
    META_APP_ID: 'app',
    META_APP_SECRET: 'server-test-secret',
    WEBHOOK_VERIFY_TOKEN: 'verify',
    API_KEYS: 'key',
  });
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  server = await listen(createApp({ config, client, log: capturingLogger() }), 0, '127.0.0.1');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

interface Outcome {
  /** Everything the server wrote before it closed the socket. */
  received: string;
  /** Milliseconds from connect to close. */
  closedAfterMs: number;
}

/**
 * Connects, writes `first`, then `drip` every `everyMs` (at most `maxDrips` times), and waits for the
 * server to close the socket, at most `waitMs`.
 */
function slowClient(first: string | Buffer, drip: string, everyMs: number, maxDrips: number, waitMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    let drips = 0;
    const dripper = setInterval(() => {
      if (drips++ < maxDrips && socket.writable) socket.write(drip);
    }, everyMs);
    const giveUp = setTimeout(() => {
      clearInterval(dripper);
      socket.destroy();
      reject(new Error(`the server kept the socket open for ${waitMs} ms`));
    }, waitMs);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer still counts as closed
    socket.on('close', () => {
      clearInterval(dripper);
      clearTimeout(giveUp);
      resolve({ received, closedAfterMs: Date.now() - startedAt });
    });
    socket.write(first);
  });
}

function jsonBodyOf(received: string): unknown {
  return JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4));
}

test('a client that sends its headers too slowly is cut off within seconds, with a JSON 408', async () => {
  const outcome = await slowClient('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 500, 60, 20_000);
  expect(outcome.closedAfterMs).toBeLessThan(SERVER_LIMITS.headersTimeoutMs + 2 * SERVER_LIMITS.checkIntervalMs + 1_000);
  expect(outcome.received).toMatch(/^HTTP\/1\.1 408 /);
  expect(jsonBodyOf(outcome.received)).toEqual({ error: { code: 'timeout', message: expect.any(String) } });
}, 30_000);

test('a webhook body sent too slowly is cut off within seconds', async () => {
  const head =
    'POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    'X-Hub-Signature-256: sha256=00\r\nContent-Length: 100000\r\n\r\n{"object":"';
  const outcome = await slowClient(head, 'x'.repeat(10), 500, 60, 25_000);
  expect(outcome.closedAfterMs).toBeLessThan(SERVER_LIMITS.requestTimeoutMs + 2 * SERVER_LIMITS.checkIntervalMs + 1_000);
  expect(outcome.closedAfterMs).toBeGreaterThan(SERVER_LIMITS.headersTimeoutMs - 1_000);
}, 30_000);

test('an idle keep-alive connection is closed after a few seconds', async () => {
  const outcome = await slowClient('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '', 1_000, 0, 20_000);
  expect(outcome.received).toMatch(/^HTTP\/1\.1 200 /);
  expect(outcome.closedAfterMs).toBeLessThan(SERVER_LIMITS.keepAliveTimeoutMs + 2_000);
}, 30_000);

test('a 100 KB Authorization header is answered 431 with the JSON error body', async () => {
  const request = `GET /v1/onboardings/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'k'.repeat(100 * 1024)}\r\n\r\n`;
  const outcome = await slowClient(request, '', 1_000, 0, 10_000);
  expect(outcome.received).toMatch(/^HTTP\/1\.1 431 /);
  expect(outcome.received).toMatch(/\r\nContent-Type: application\/json/i);
  expect(jsonBodyOf(outcome.received)).toEqual({ error: { code: 'headers_too_large', message: expect.stringContaining('16 kB') } });
}, 20_000);

test('a request line that is not HTTP gets a JSON 400, not a bare status line', async () => {
  const outcome = await slowClient('HELLO THERE\r\n\r\n', '', 1_000, 0, 10_000);
  expect(outcome.received).toMatch(/^HTTP\/1\.1 400 /);
  expect(jsonBodyOf(outcome.received)).toEqual({ error: { code: 'invalid_request', message: 'malformed HTTP request' } });
}, 20_000);
