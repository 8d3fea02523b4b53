import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createPartnerCallbackActivities,
  parseRetryAfter,
  PARTNER_CALLBACK_UNAVAILABLE,
  signCallbackBody,
  verifyCallbackSignature,
  type PartnerCallbackEvent,
  type PartnerCallbackLog,
} from '../../activities/partner-callbacks';

const SECRET = 'whsec-partner-callback-secret-0123456789';
const QUERY_TOKEN = 'query-token-should-not-leak';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
}

/** Answers per path: `/status/<code>` with that code; `/redirect` → 302 to `/elsewhere`; `/hang` never answers. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      this.received.push({ path, headers: req.headers, rawBody: Buffer.concat(chunks) });
      const pathname = path.split('?')[0];
      if (pathname === '/hang') return; // the client's timeout must end this
      if (pathname === '/redirect') {
        res.writeHead(302, { location: `${this.base}/elsewhere` }).end();
        return;
      }
      const [, code, retryAfter] = /^\/status\/(\d{3})(?:\/retry-after\/(.+))?$/.exec(pathname) ?? [];
      res.writeHead(code ? Number(code) : 200, retryAfter ? { 'retry-after': retryAfter } : {});
      res.end(code && Number(code) >= 400 ? `nope ${SECRET.length}` : 'ok');
    });
  });
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  hits(pathname: string): number {
    return this.received.filter((r) => r.path.split('?')[0] === pathname).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const receiver = new Receiver();
const agent = new Agent({ connect: { timeout: 2_000 } });
/** Every error any delivery threw, checked at the end for leaked secrets. */
const thrown: Error[] = [];
const logged: unknown[] = [];
const captureLog: PartnerCallbackLog = {
  info: (message, meta) => logged.push([message, meta]),
  warn: (message, meta) => logged.push([message, meta]),
};

let sequence = 0;
function event(overrides: Partial<PartnerCallbackEvent> = {}): PartnerCallbackEvent {
  sequence += 1;
  return {
    id: `evt-${sequence}`,
    type: 'onboarding.status_changed',
    wabaId: '1234567890',
    businessId: '555',
    status: 'AWAITING_TERMS',
    previousStatus: 'REQUESTING_INTENT',
    at: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}

function activitiesFor(path: string, timeoutMs = 5_000) {
  return createPartnerCallbackActivities({
    callback: { url: `${receiver.base}${path}?token=${QUERY_TOKEN}`, secret: SECRET },
    timeoutMs,
    dispatcher: agent,
    log: captureLog,
  });
}

async function failureOf(path: string, timeoutMs?: number): Promise<ApplicationFailure> {
  try {
    await activitiesFor(path, timeoutMs).deliverPartnerCallback(event());
  } catch (err) {
    thrown.push(err as Error);
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error(`delivery to ${path} did not throw`);
}

function expectRetryable(failure: ApplicationFailure, status?: number): void {
  expect(failure.nonRetryable).toBeFalsy();
  expect(failure.type).toBe(PARTNER_CALLBACK_UNAVAILABLE);
  expect(failure.details?.[0]).toMatchObject(status === undefined ? {} : { status });
}

function expectRejected(failure: ApplicationFailure, status: number): void {
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe('PartnerCallbackRejected');
  expect(failure.details?.[0]).toEqual({ status, eventId: expect.stringMatching(/^evt-/) });
}

beforeAll(() => receiver.start());
afterAll(async () => {
  await receiver.stop();
  await agent.close();
});

describe('signCallbackBody / verifyCallbackSignature', () => {
  const body = '{"id":"evt-x","status":"READY"}';
  const signature = signCallbackBody(body, SECRET);

  it('signs as sha256=<hex> and verifies strings and buffers', () => {
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyCallbackSignature(body, signature, SECRET)).toBe(true);
    expect(verifyCallbackSignature(Buffer.from(body), signature, SECRET)).toBe(true);
    expect(verifyCallbackSignature(body, signature.toUpperCase().replace('SHA256=', 'sha256='), SECRET)).toBe(true);
  });

  it('rejects a tampered body, another secret and malformed headers', () => {
    expect(verifyCallbackSignature(body.replace('READY', 'EXPIRED'), signature, SECRET)).toBe(false);
    expect(verifyCallbackSignature(body, signature, 'other-secret')).toBe(false);
    for (const header of [undefined, '', 'sha256=', signature.slice(0, -2), `${signature}00`, signature.slice(7), `sha1=${signature.slice(7)}`]) {
      expect(verifyCallbackSignature(body, header, SECRET)).toBe(false);
    }
  });
});

describe('deliverPartnerCallback', () => {
  it('POSTs the event with a signature over the raw bytes and the event id', async () => {
    const sent = event({ reason: 'Waiting for the business to accept the terms' });
    const result = await activitiesFor('/status/204').deliverPartnerCallback(sent);
    expect(result).toEqual({ delivered: true, status: 204 });

    const got = receiver.received.at(-1)!;
    expect(got.path).toBe(`/status/204?token=${QUERY_TOKEN}`);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('mm-onboarding');
    expect(got.headers['x-mm-event-id']).toBe(sent.id);
    const header = got.headers['x-mm-signature-256'] as string;
    expect(verifyCallbackSignature(got.rawBody, header, SECRET)).toBe(true);
    expect(JSON.parse(got.rawBody.toString('utf8'))).toEqual(sent);

    const tampered = Buffer.from(got.rawBody.toString('utf8').replace('AWAITING_TERMS', 'READY'));
    expect(verifyCallbackSignature(tampered, header, SECRET)).toBe(false);
  });

  it('sends keys in the documented order and omits an absent reason', async () => {
    await activitiesFor('/status/200').deliverPartnerCallback(event({ previousStatus: null }));
    const body = JSON.parse(receiver.received.at(-1)!.rawBody.toString('utf8'));
    expect(Object.keys(body)).toEqual(['id', 'type', 'wabaId', 'businessId', 'status', 'previousStatus', 'at']);
    expect(body.previousStatus).toBeNull();
  });

  it('is skipped when callbacks are not configured', async () => {
    const { deliverPartnerCallback } = createPartnerCallbackActivities({ dispatcher: agent });
    await expect(deliverPartnerCallback(event())).resolves.toEqual({ delivered: false, skipped: 'not_configured' });
  });

  it.each([500, 502, 503])('%i is retryable', async (status) => {
    const failure = await failureOf(`/status/${status}`);
    expectRetryable(failure, status);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it.each([408, 429])('%i is retryable', async (status) => {
    const failure = await failureOf(`/status/${status}`);
    expectRetryable(failure, status);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it('429 with Retry-After: 7 asks Temporal to wait 7 s', async () => {
    const failure = await failureOf('/status/429/retry-after/7');
    expectRetryable(failure, 429);
    expect(failure.nextRetryDelay).toBe(7_000);
  });

  it.each([400, 401, 404, 410])('%i is refused and not retried, with the status in details', async (status) => {
    expectRejected(await failureOf(`/status/${status}`), status);
  });

  it('does not follow a redirect, and refuses it', async () => {
    const before = receiver.hits('/elsewhere');
    const failure = await failureOf('/redirect');
    expectRejected(failure, 302);
    expect(receiver.hits('/elsewhere')).toBe(before);
    expect(failure.message).toMatch(/redirect, not followed/);
  });

  it('connection refused is retryable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const { deliverPartnerCallback } = createPartnerCallbackActivities({
      callback: { url: `http://127.0.0.1:${port}/cb?token=${QUERY_TOKEN}`, secret: SECRET },
      dispatcher: agent,
      log: captureLog,
    });
    const err = await deliverPartnerCallback(event()).catch((e: Error) => e);
    thrown.push(err as Error);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expectRetryable(err as ApplicationFailure);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('a partner that never answers times out, retryably', async () => {
    const failure = await failureOf('/hang', 300);
    expectRetryable(failure);
    expect(failure.message).toMatch(/timed out after 300 ms/);
  });

  it('turns credentials in the URL into Basic auth and keeps them out of errors', async () => {
    const { deliverPartnerCallback } = createPartnerCallbackActivities({
      callback: { url: `http://partner:p%40ss-word@${receiver.base.slice(7)}/status/410`, secret: SECRET },
      dispatcher: agent,
      log: captureLog,
    });
    const err = (await deliverPartnerCallback(event()).catch((e: Error) => e)) as Error;
    thrown.push(err);
    expect(receiver.received.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('partner:p@ss-word').toString('base64')}`,
    );
    expect(err.message).not.toMatch(/p%40ss-word|p@ss-word|partner:/);
  });

  it('runs inside an activity context, logging through the activity logger', async () => {
    const lines: string[] = [];
    const record = (message: string) => void lines.push(message);
    const logger: Logger = { log: (_l, m) => record(m), trace: record, debug: record, info: record, warn: record, error: record };
    const env = new MockActivityEnvironment(undefined, { logger });
    const { deliverPartnerCallback } = createPartnerCallbackActivities({
      callback: { url: `${receiver.base}/status/200`, secret: SECRET },
      dispatcher: agent,
    });
    await expect(env.run(deliverPartnerCallback, event())).resolves.toEqual({ delivered: true, status: 200 });
    expect(lines.some((l) => l.includes('Partner callback delivered'))).toBe(true);
  });

  it('never puts the secret or the URL query in errors or logs', () => {
    expect(thrown.length).toBeGreaterThanOrEqual(10);
    expect(logged.length).toBeGreaterThan(0);
    for (const text of [...thrown.map((e) => `${e.message} ${JSON.stringify(e)}`), JSON.stringify(logged)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(QUERY_TOKEN);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds and HTTP dates, clamped to [1 s, 1 h]', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(['30'], now)).toBe(30_000);
    expect(parseRetryAfter('0', now)).toBe(1_000);
    expect(parseRetryAfter('86400', now)).toBe(3_600_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:02:00 GMT', now)).toBe(120_000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
