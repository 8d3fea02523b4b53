import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  classifyGraphError,
  GraphClient,
  GraphCodeRejectedError,
  GraphNeedsAttentionError,
  GraphRequestError,
  GraphResponseError,
  GraphRetryableError,
  GraphThrottledError,
  retryAfterMsOf,
} from '../../graph';
import { failureOf } from '../harness/failures';

/**
 * Answers the sandbox never gives: malformed bodies, proxies' HTML pages, Meta echoing secrets back.
 * A tiny server answers whatever the test says; classification is also checked on its own.
 */

const TOKEN = 'EAAGtinyServerToken9f8e7d6c5b4a';
const APP_SECRET = 'tiny-server-app-secret-0a1b2c3d';
const CODE = 'AQtinyServerOAuthCode-1234567890';

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
let answer: Answer;
let server: Server;
let graph: GraphClient;

beforeAll(async () => {
  server = createServer((req, res) => answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  graph = new GraphClient({
    baseUrl: `http://127.0.0.1:${port}`,
    version: 'v24.0',
    accessToken: TOKEN,
    appId: '42',
    appSecret: APP_SECRET,
    timeoutMs: 2_000,
  });
});

afterAll(async () => {
  await graph.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};


describe('answers that do not fit', () => {
  test('a 200 with the wrong shape is a retryable GraphResponseError naming the field', async () => {
    answer = json(200, { id: '1', marketing_messages_onboarding_status: { unexpected: 'object' } });
    const err = await failureOf(graph.getWabaOnboardingStatus('1'));
    expect(err).toBeInstanceOf(GraphResponseError);
    expect(err).toMatchObject({ kind: 'retryable', httpStatus: 200 });
    expect(err.message).toMatch(/marketing_messages_onboarding_status/);
  });

  test('a 200 that is not JSON is a GraphResponseError', async () => {
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sorry, something went wrong.</html>');
    await expect(graph.listPhoneNumbers('1')).rejects.toBeInstanceOf(GraphResponseError);
  });

  test('a 502 HTML page from a proxy is retryable', async () => {
    answer = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    await expect(graph.subscribeApp('1')).rejects.toMatchObject({ name: 'GraphRetryableError', httpStatus: 502 });
  });

  test('{ success: false } from subscribed_apps is not a success', async () => {
    answer = json(200, { success: false });
    await expect(graph.subscribeApp('1')).rejects.toBeInstanceOf(GraphResponseError);
  });

  test('a 200 carrying an error envelope is classified like the error it is', async () => {
    answer = json(200, { error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190 } });
    await expect(graph.getWabaOnboardingStatus('1')).rejects.toBeInstanceOf(GraphNeedsAttentionError);
  });

  test('paging.next without a cursor to follow is a GraphResponseError, not an endless loop', async () => {
    answer = json(200, { data: [{ id: '1' }], paging: { next: 'https://graph.facebook.com/next' } });
    await expect(graph.listPhoneNumbers('1')).rejects.toBeInstanceOf(GraphResponseError);
  });

  test('a cursor that repeats is a GraphResponseError, not an endless loop', async () => {
    let calls = 0;
    answer = (req, res) => {
      calls++;
      json(200, { data: [{ id: String(calls) }], paging: { cursors: { after: 'SAME' }, next: 'x' } })(req, res);
    };
    await expect(graph.listClientWabas('1')).rejects.toBeInstanceOf(GraphResponseError);
    expect(calls).toBe(2);
  });

  test('429 without a Graph error is throttled, honouring Retry-After', async () => {
    answer = json(429, 'Too Many Requests', { 'retry-after': '7' });
    const err = await failureOf(graph.listPhoneNumbers('1'));
    expect(err).toBeInstanceOf(GraphThrottledError);
    expect(err).toMatchObject({ retryAfterMs: 7_000 });
  });
});

describe('the request the client sends', () => {
  test('versioned path, bearer token, encoded ids, fields and filtering in the query', async () => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    answer = (req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      json(200, { data: [] })(req, res);
    };
    await graph.listClientWabas('77', ['ELIGIBLE']);
    await graph.listPhoneNumbers('1/../2', 'EAAGperCallToken');
    const first = new URL(seen[0].url!, 'http://x');
    expect(first.pathname).toBe('/v24.0/77/client_whatsapp_business_accounts');
    expect(JSON.parse(first.searchParams.get('filtering')!)).toEqual([
      { field: 'marketing_messages_onboarding_status', operator: 'IN', value: ['ELIGIBLE'] },
    ]);
    expect(seen[0].auth).toBe(`Bearer ${TOKEN}`);
    expect(new URL(seen[1].url!, 'http://x').pathname).toBe('/v24.0/1%2F..%2F2/phone_numbers');
    expect(seen[1].auth).toBe('Bearer EAAGperCallToken');
  });

  test('the code exchange sends credentials in the query and no bearer token', async () => {
    let seen: IncomingMessage | undefined;
    answer = (req, res) => {
      seen = req;
      json(200, { access_token: 'EAAGminted', token_type: 'bearer' })(req, res);
    };
    await expect(graph.exchangeCode(CODE)).resolves.toEqual({ accessToken: 'EAAGminted' });
    const url = new URL(seen!.url!, 'http://x');
    expect(url.pathname).toBe('/v24.0/oauth/access_token');
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: '42', client_secret: APP_SECRET, code: CODE });
    expect(seen!.headers.authorization).toBeUndefined();
  });
});

describe('secrets Meta echoes back', () => {
  test('are redacted from error messages and stacks', async () => {
    answer = (req, res) => {
      const url = new URL(req.url!, 'http://x');
      json(400, {
        error: {
          message: `Bad request ${req.headers.authorization} ${url.search} ${encodeURIComponent(APP_SECRET)}`,
          type: 'OAuthException',
          code: 100,
          error_subcode: 36009,
        },
      })(req, res);
    };
    const errors = [
      await failureOf(graph.exchangeCode(CODE)),
      await failureOf(graph.getWabaOnboardingStatus('1')),
      await failureOf(graph.getWabaOnboardingStatus('1', 'EAAGperCallSecretToken')),
    ];
    expect(errors[0]).toBeInstanceOf(GraphCodeRejectedError);
    for (const err of errors) {
      const everything = `${err.message}\n${err.stack}\n${JSON.stringify(err)}`;
      expect(everything).toContain('[redacted]'); // the echo did happen
      for (const secret of [TOKEN, APP_SECRET, CODE, 'EAAGperCallSecretToken']) expect(everything).not.toContain(secret);
    }
  });

  test('a malformed token answer does not show the token it carried', async () => {
    answer = json(200, { access_token: ['EAAGleakedInAnArray'], token_type: 'bearer' });
    const err = await failureOf(graph.exchangeCode(CODE));
    expect(err).toBeInstanceOf(GraphResponseError);
    expect(`${err.message}${err.stack}`).not.toContain('EAAGleakedInAnArray');
  });
});

describe('classifyGraphError', () => {
  const graphError = (code: number, extra: Record<string, unknown> = {}) => ({
    error: { message: `(#${code}) something`, type: 'OAuthException', code, fbtrace_id: 'Abc123', ...extra },
  });

  test.each([
    { label: 'HTTP 500, code 1', status: 500, body: graphError(1), expected: GraphRetryableError },
    { label: 'HTTP 500, code 2', status: 500, body: graphError(2), expected: GraphRetryableError },
    { label: 'HTTP 400, code 131000, is_transient: true', status: 400, body: graphError(131000, { is_transient: true }), expected: GraphRetryableError },
    { label: 'HTTP 503 with no Graph error', status: 503, body: undefined, expected: GraphRetryableError },
    { label: 'HTTP 408 with no Graph error', status: 408, body: undefined, expected: GraphRetryableError },
    { label: 'HTTP 400, code 4', status: 400, body: graphError(4), expected: GraphThrottledError },
    { label: 'HTTP 400, code 17', status: 400, body: graphError(17), expected: GraphThrottledError },
    { label: 'HTTP 400, code 32', status: 400, body: graphError(32), expected: GraphThrottledError },
    { label: 'HTTP 400, code 613', status: 400, body: graphError(613), expected: GraphThrottledError },
    { label: 'HTTP 400, code 80001', status: 400, body: graphError(80001), expected: GraphThrottledError },
    { label: 'HTTP 400, code 80014', status: 400, body: graphError(80014), expected: GraphThrottledError },
    { label: 'HTTP 400, code 130429', status: 400, body: graphError(130429), expected: GraphThrottledError },
    { label: 'HTTP 429 with no Graph error', status: 429, body: undefined, expected: GraphThrottledError },
    { label: 'HTTP 400, code 190, error_subcode: 460', status: 400, body: graphError(190, { error_subcode: 460 }), expected: GraphNeedsAttentionError },
    { label: 'HTTP 401, code 190', status: 401, body: graphError(190), expected: GraphNeedsAttentionError },
    { label: 'HTTP 400, code 10', status: 400, body: graphError(10), expected: GraphNeedsAttentionError },
    { label: 'HTTP 403, code 200', status: 403, body: graphError(200), expected: GraphNeedsAttentionError },
    { label: 'HTTP 400, code 299', status: 400, body: graphError(299), expected: GraphNeedsAttentionError },
    { label: 'HTTP 400, code 100, error_subcode: 36007', status: 400, body: graphError(100, { error_subcode: 36007 }), expected: GraphCodeRejectedError },
    { label: 'HTTP 400, code 100, error_subcode: 36009', status: 400, body: graphError(100, { error_subcode: 36009 }), expected: GraphCodeRejectedError },
    { label: 'HTTP 400, code 100, error_subcode: 33', status: 400, body: graphError(100, { error_subcode: 33 }), expected: GraphRequestError },
    { label: 'HTTP 400, code 80015', status: 400, body: graphError(80015), expected: GraphRequestError },
    { label: 'HTTP 400, code 300', status: 400, body: graphError(300), expected: GraphRequestError },
    { label: 'HTTP 404 with no Graph error', status: 404, body: undefined, expected: GraphRequestError },
  ])('$label is a $expected.name', ({ status, body, expected }) => {
    expect(classifyGraphError(status, body, {})).toBeInstanceOf(expected);
  });

  test('throttling beats is_transient, and the class carries every Graph field', () => {
    const err = classifyGraphError(400, graphError(80008, { error_subcode: 2446079, is_transient: true }), {});
    expect(err).toBeInstanceOf(GraphThrottledError);
    expect(err).toMatchObject({ httpStatus: 400, code: 80008, subcode: 2446079, type: 'OAuthException', fbtraceId: 'Abc123', isTransient: true });
  });

  test('the wait is the longest estimated_time_to_regain_access over every business and entry', () => {
    const usage = JSON.stringify({
      '111': [{ type: 'whatsapp_business_management', call_count: 100, total_cputime: 20, total_time: 30, estimated_time_to_regain_access: 2 }],
      '222': [
        { type: 'whatsapp_business_management', call_count: 5, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: 0 },
        { type: 'ads_management', call_count: 99, total_cputime: 99, total_time: 99, estimated_time_to_regain_access: 15 },
      ],
    });
    expect(retryAfterMsOf({ 'x-business-use-case-usage': usage })).toBe(15 * 60_000);
    expect(retryAfterMsOf({ 'x-business-use-case-usage': usage, 'retry-after': '3600' })).toBe(3_600_000);
    expect(retryAfterMsOf({ 'x-business-use-case-usage': 'not json' })).toBeUndefined();
    expect(retryAfterMsOf({})).toBeUndefined();
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    expect(retryAfterMsOf({ 'retry-after': inTwoMinutes })).toBeGreaterThan(100_000);
  });
});
