import {
  GraphClient,
  GraphCodeRejectedError,
  GraphNeedsAttentionError,
  GraphRequestError,
  GraphResponseError,
  GraphRetryableError,
  GraphThrottledError,
  INTENT_ALREADY_SENT_SUBCODE,
  isRegisteredOnCloudApi,
} from '../../graph';
import { createSandbox, INTENT_ALREADY_SENT_SUBCODE as SANDBOX_ALREADY_SENT_SUBCODE, type Sandbox } from '../../sandbox';
import { failureOf } from '../harness/failures';

/** The Graph client against the sandbox on a real socket: every method, paging, and each error class. */

const TOKEN = 'EAAGsystemUserToken0123456789abcdef';
const APP_ID = '1234567890123';
const APP_SECRET = 'app-secret-5f1e2d3c4b5a69788796a5b4';
const CODE_TTL_MS = 300;

let sandbox: Sandbox;
let url: string;
let graph: GraphClient;

const clientWith = (overrides: Partial<ConstructorParameters<typeof GraphClient>[0]> = {}) =>
  new GraphClient({ baseUrl: url, version: 'v24.0', accessToken: TOKEN, appId: APP_ID, appSecret: APP_SECRET, timeoutMs: 2_000, ...overrides });

beforeAll(async () => {
  sandbox = createSandbox({ appId: APP_ID, appSecret: APP_SECRET, accessToken: TOKEN, codeTtlMs: CODE_TTL_MS });
  ({ url } = await sandbox.listen(0));
  graph = clientWith();
});

afterAll(async () => {
  await graph.close();
  await sandbox.close();
});

beforeEach(() => sandbox.world.reset());


describe('WABA onboarding status', () => {
  test('reads marketing_messages_onboarding_status', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toEqual({
      status: 'ELIGIBLE',
      field: 'marketing_messages_onboarding_status',
    });
  });

  test('prefers the new field when the legacy one disagrees', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: 'PENDING_INTERNAL_SETUP', legacyStatus: 'ELIGIBLE' });
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toEqual({
      status: 'PENDING_INTERNAL_SETUP',
      field: 'marketing_messages_onboarding_status',
    });
  });

  test('an unknown future status value comes back verbatim', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: 'PENDING_SOMETHING_META_ADDED_IN_2027' });
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toMatchObject({ status: 'PENDING_SOMETHING_META_ADDED_IN_2027' });
  });

  test('falls back to the legacy field only when the new one is absent', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: null, legacyStatus: 'ONBOARDED' });
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toEqual({
      status: 'ONBOARDED',
      field: 'marketing_messages_lite_api_status',
    });
  });

  test('neither field present is a GraphResponseError', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: null, legacyStatus: null });
    const err = await failureOf(graph.getWabaOnboardingStatus(waba.id));
    expect(err).toBeInstanceOf(GraphResponseError);
    expect(err).toMatchObject({ kind: 'retryable' });
  });

  test('an unknown WABA is Meta\'s code 100 "unsupported get request", not retryable', async () => {
    const err = await failureOf(graph.getWabaOnboardingStatus('999999999999999'));
    expect(err).toBeInstanceOf(GraphRequestError);
    expect(err).toMatchObject({ kind: 'rejected', httpStatus: 400, code: 100, subcode: 33, type: 'GraphMethodException' });
    expect(err.message).toMatch(/^GET \/v24\.0\/999999999999999 failed: Unsupported get request/);
  });
});

describe('phone numbers', () => {
  test('pages through every number and tells which are registered on Cloud API', async () => {
    const phoneNumbers = Array.from({ length: 60 }, (_, i) => ({
      platformType: i % 3 === 0 ? 'ON_PREMISE' : i % 3 === 1 ? 'CLOUD_API' : 'NOT_APPLICABLE',
    }));
    const waba = sandbox.world.createWaba({ phoneNumbers });
    const numbers = await graph.listPhoneNumbers(waba.id);
    expect(numbers.map((n) => n.id)).toEqual(waba.phoneNumbers.map((n) => n.id));
    expect(numbers.filter(isRegisteredOnCloudApi)).toHaveLength(20);
    expect(numbers[1]).toEqual({
      id: waba.phoneNumbers[1].id,
      displayPhoneNumber: waba.phoneNumbers[1].displayPhoneNumber,
      platformType: 'CLOUD_API',
      status: 'CONNECTED',
      codeVerificationStatus: 'VERIFIED',
    });
    expect(sandbox.world.countCalls({ endpoint: 'phone_numbers', wabaId: waba.id })).toBe(3); // 25 + 25 + 10
  });

  test('a token minted for another WABA cannot list this one', async () => {
    const mine = sandbox.world.createWaba();
    const other = sandbox.world.createWaba();
    const { accessToken } = await graph.exchangeCode(sandbox.world.issueSignupCode(mine.id));
    await expect(graph.listPhoneNumbers(mine.id, accessToken)).resolves.toHaveLength(1);
    await expect(graph.listPhoneNumbers(other.id, accessToken)).rejects.toMatchObject({ code: 100, kind: 'rejected' });
  });
});

describe('client WABAs', () => {
  test('filters by status and keeps paging past short and empty pages while paging.next is present', async () => {
    const partner = sandbox.world.createBusiness();
    const statusOf = (i: number) => {
      if (i < 25) return [2, 11, 20].includes(i) ? 'ELIGIBLE' : 'ONBOARDED'; // page 1: 3 of 25 match
      if (i < 50) return 'INELIGIBLE_COUNTRY_NOT_SUPPORTED'; // page 2: none match
      return i === 51 || i === 58 ? 'ELIGIBLE' : 'PENDING_VALID_PAYMENT_METHOD'; // page 3: 2 of 10
    };
    const wabas = Array.from({ length: 60 }, (_, i) =>
      sandbox.world.createWaba({ partnerBusinessId: partner.id, onboardingStatus: statusOf(i), name: `client ${i}` }),
    );
    sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' }); // another partner's client

    const eligible = await graph.listClientWabas(partner.id, ['ELIGIBLE']);

    expect(eligible.map((w) => w.name)).toEqual(['client 2', 'client 11', 'client 20', 'client 51', 'client 58']);
    expect(eligible[0]).toEqual({ id: wabas[2].id, name: 'client 2', onboardingStatus: 'ELIGIBLE' });
    expect(sandbox.world.countCalls({ endpoint: 'client_wabas', businessId: partner.id })).toBe(3);
  });

  test('several statuses at once, or all clients without a filter', async () => {
    const partner = sandbox.world.createBusiness();
    for (const s of ['ELIGIBLE', 'ONBOARDED', 'INELIGIBLE_ON_BEHALF_OF_WABA', 'SOMETHING_NEW']) {
      sandbox.world.createWaba({ partnerBusinessId: partner.id, onboardingStatus: s });
    }
    const some = await graph.listClientWabas(partner.id, ['ELIGIBLE', 'INELIGIBLE_ON_BEHALF_OF_WABA']);
    expect(some.map((w) => w.onboardingStatus)).toEqual(['ELIGIBLE', 'INELIGIBLE_ON_BEHALF_OF_WABA']);
    const all = await graph.listClientWabas(partner.id);
    expect(all.map((w) => w.onboardingStatus)).toEqual(['ELIGIBLE', 'ONBOARDED', 'INELIGIBLE_ON_BEHALF_OF_WABA', 'SOMETHING_NEW']);
  });
});

describe('a discovery page', () => {
  test("each WABA comes with its owner business and, by field expansion, the first page of its phone numbers", async () => {
    const partner = sandbox.world.createBusiness();
    const owner = sandbox.world.createBusiness();
    const onCloud = sandbox.world.createWaba({ partnerBusinessId: partner.id, ownerBusinessId: owner.id, phoneNumbers: [{ platformType: 'CLOUD_API' }] });
    const onApp = sandbox.world.createWaba({ partnerBusinessId: partner.id, phoneNumbers: [{ platformType: 'NOT_APPLICABLE', displayPhoneNumber: '+1 555 0100' }] });
    const many = sandbox.world.createWaba({ partnerBusinessId: partner.id, phoneNumbers: 30 });

    const page = await graph.listClientWabasPage(partner.id, { statuses: ['ELIGIBLE'] });

    expect(page.after).toBeUndefined();
    expect(page.wabas.map((w) => w.id)).toEqual([onCloud.id, onApp.id, many.id]);
    expect(page.wabas[0]).toMatchObject({ ownerBusinessId: owner.id, phoneNumbers: { complete: true, numbers: [{ platformType: 'CLOUD_API' }] } });
    expect(page.wabas[1].phoneNumbers).toEqual({
      complete: true,
      numbers: [expect.objectContaining({ displayPhoneNumber: '+1 555 0100', platformType: 'NOT_APPLICABLE' })],
    });
    // More numbers than the nested page holds: the rest are not listed, and the page says so.
    expect(page.wabas[2].phoneNumbers).toMatchObject({ complete: false, numbers: expect.any(Array) });
    expect(page.wabas[2].phoneNumbers!.numbers.length).toBeLessThan(30);
    expect(sandbox.world.countCalls({ endpoint: 'phone_numbers' })).toBe(0);
  });
});

describe('Intent API', () => {
  test('the first request answers a request id and marks the portfolio REQUEST_SENT', async () => {
    const waba = sandbox.world.createWaba();
    const result = await graph.requestIntent(waba.ownerBusinessId, '555000111222333');
    expect(result).toEqual({ requestId: expect.stringMatching(/^\d{15}$/), alreadySent: false });
    expect(sandbox.world.business(waba.ownerBusinessId).intent.solutionIds).toEqual(['555000111222333']);
    await expect(graph.getBusinessOnboardingStatus(waba.ownerBusinessId)).resolves.toEqual({
      status: 'REQUEST_SENT',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/),
    });
  });

  test('a repeat answering the same request id is not "already sent"', async () => {
    const business = sandbox.world.createBusiness({ repeatAnswer: 'same_request_id' });
    const first = await graph.requestIntent(business.id);
    await expect(graph.requestIntent(business.id)).resolves.toEqual({ requestId: first.requestId, alreadySent: false });
    expect(sandbox.world.intentRequestCount(business.id)).toBe(2);
  });

  test('a repeat answering the "already sent" error means the request stands', async () => {
    const business = sandbox.world.createBusiness({ repeatAnswer: 'already_sent' });
    await graph.requestIntent(business.id);
    await expect(graph.requestIntent(business.id)).resolves.toEqual({ alreadySent: true });
  });

  test('the sandbox answers "already sent" with exactly the subcode the client recognises', () => {
    expect(SANDBOX_ALREADY_SENT_SUBCODE).toBe(INTENT_ALREADY_SENT_SUBCODE);
  });

  test('other Intent API errors still throw', async () => {
    await expect(graph.requestIntent('999999999999999')).rejects.toBeInstanceOf(GraphRequestError);
  });
});

describe('Embedded Signup', () => {
  test('exchanges a code for a token that works for that WABA, then subscribes the app', async () => {
    const waba = sandbox.world.createWaba();
    const { accessToken } = await graph.exchangeCode(sandbox.world.issueSignupCode(waba.id));
    expect(accessToken).toMatch(/^EAAG/);
    await expect(graph.getWabaOnboardingStatus(waba.id, accessToken)).resolves.toMatchObject({ status: 'ELIGIBLE' });
    await graph.subscribeApp(waba.id, accessToken);
    expect(sandbox.world.waba(waba.id).subscribedApps).toEqual([APP_ID]);
    const call = sandbox.world.findCalls({ endpoint: 'oauth' })[0];
    expect(call.path).toBe('/v24.0/oauth/access_token'); // no query, so no secret, in the call log
  });

  test('a code used twice is rejected', async () => {
    const code = sandbox.world.issueSignupCode(sandbox.world.createWaba().id);
    await graph.exchangeCode(code);
    const err = await failureOf(graph.exchangeCode(code));
    expect(err).toBeInstanceOf(GraphCodeRejectedError);
    expect(err).toMatchObject({ kind: 'rejected', code: 100, subcode: 36009 });
  });

  test('a code older than its lifetime is rejected', async () => {
    const code = sandbox.world.issueSignupCode(sandbox.world.createWaba().id);
    await new Promise((r) => setTimeout(r, CODE_TTL_MS + 100));
    const err = await failureOf(graph.exchangeCode(code));
    expect(err).toBeInstanceOf(GraphCodeRejectedError);
    expect(err).toMatchObject({ subcode: 36007 });
  });

  test('exchanges are logged, and can be faulted, per WABA', async () => {
    const [a, b] = [sandbox.world.createWaba(), sandbox.world.createWaba()];
    sandbox.world.injectFault({ endpoint: 'oauth', wabaId: a.id, kind: 'transient' });
    await expect(graph.exchangeCode(sandbox.world.issueSignupCode(b.id))).resolves.toBeDefined();
    await expect(graph.exchangeCode(sandbox.world.issueSignupCode(a.id))).rejects.toBeInstanceOf(GraphRetryableError);
    expect(sandbox.world.countCalls({ endpoint: 'oauth', wabaId: a.id })).toBe(1);
    expect(sandbox.world.countCalls({ endpoint: 'oauth', wabaId: b.id, status: 200 })).toBe(1);
  });

  test('a code Meta never issued is rejected', async () => {
    await expect(graph.exchangeCode('AQnot-a-code-we-issued')).rejects.toMatchObject({
      name: 'GraphCodeRejectedError',
      subcode: 36008,
    });
  });
});

describe('business portfolio status', () => {
  test('moves from NOT_STARTED to TERM_OF_SERVICE_SIGNED', async () => {
    const waba = sandbox.world.createWaba();
    await expect(graph.getBusinessOnboardingStatus(waba.ownerBusinessId)).resolves.toEqual({ status: 'NOT_STARTED' });
    await sandbox.world.signTerms(waba.id);
    await expect(graph.getBusinessOnboardingStatus(waba.ownerBusinessId)).resolves.toMatchObject({
      status: 'TERM_OF_SERVICE_SIGNED',
    });
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toMatchObject({ status: 'ONBOARDED' });
  });
});

describe('errors from injected faults', () => {
  test('a transient error (code 2, is_transient, HTTP 500) is retryable', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'transient' });
    const err = await failureOf(graph.getWabaOnboardingStatus(waba.id));
    expect(err).toBeInstanceOf(GraphRetryableError);
    expect(err).toMatchObject({ kind: 'retryable', httpStatus: 500, code: 2, isTransient: true, fbtraceId: expect.any(String) });
    // One hit by default: the next call succeeds.
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toMatchObject({ status: 'ELIGIBLE' });
  });

  test('HTTP 503 is retryable', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ endpoint: 'phone_numbers', kind: 'server_error' });
    await expect(graph.listPhoneNumbers(waba.id)).rejects.toMatchObject({ name: 'GraphRetryableError', httpStatus: 503 });
  });

  test('throttling carries the wait from X-Business-Use-Case-Usage', async () => {
    const business = sandbox.world.createBusiness();
    sandbox.world.injectFault({ endpoint: 'client_wabas', kind: 'throttle', regainAccessMinutes: 3 });
    const err = await failureOf(graph.listClientWabas(business.id, ['ELIGIBLE']));
    expect(err).toBeInstanceOf(GraphThrottledError);
    expect(err).toMatchObject({ kind: 'throttled', code: 80008, retryAfterMs: 180_000 });
  });

  test('an expired token needs attention', async () => {
    sandbox.world.injectFault({ endpoint: '*', kind: 'token_expired' });
    const err = await failureOf(graph.requestIntent(sandbox.world.createBusiness().id));
    expect(err).toBeInstanceOf(GraphNeedsAttentionError);
    expect(err).toMatchObject({ kind: 'needs_attention', code: 190, subcode: 463 });
  });

  test('a token Meta does not know needs attention', async () => {
    const waba = sandbox.world.createWaba();
    const stranger = clientWith({ accessToken: 'EAAGsomeoneElsesToken' });
    try {
      await expect(stranger.getWabaOnboardingStatus(waba.id)).rejects.toMatchObject({ name: 'GraphNeedsAttentionError', code: 190 });
    } finally {
      await stranger.close();
    }
  });

  test('a missing permission needs attention', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ endpoint: 'subscribed_apps', wabaId: waba.id, kind: 'permission' });
    await expect(graph.subscribeApp(waba.id)).rejects.toMatchObject({ name: 'GraphNeedsAttentionError', code: 200 });
  });

  test('a fault hits only its target and only as often as asked', async () => {
    const target = sandbox.world.createWaba();
    const bystander = sandbox.world.createWaba();
    sandbox.world.injectFault({ wabaId: target.id, kind: 'transient', times: 2 });
    await expect(graph.getWabaOnboardingStatus(bystander.id)).resolves.toBeDefined();
    await expect(graph.getWabaOnboardingStatus(target.id)).rejects.toBeInstanceOf(GraphRetryableError);
    await expect(graph.listPhoneNumbers(target.id)).rejects.toBeInstanceOf(GraphRetryableError);
    await expect(graph.getWabaOnboardingStatus(target.id)).resolves.toBeDefined();
    expect(sandbox.world.countCalls({ wabaId: target.id, status: 500 })).toBe(2);
  });

  test('a fault for every call stays until cleared', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ kind: 'server_error', times: Infinity });
    for (let i = 0; i < 5; i++) await expect(graph.getWabaOnboardingStatus(waba.id)).rejects.toBeInstanceOf(GraphRetryableError);
    sandbox.world.clearFaults();
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toBeDefined();
  });

  test('an answer slower than the timeout is retryable, with no HTTP status', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ endpoint: 'waba_status', kind: 'latency', latencyMs: 1_000 });
    const impatient = clientWith({ timeoutMs: 100 });
    try {
      const err = await failureOf(impatient.getWabaOnboardingStatus(waba.id));
      expect(err).toBeInstanceOf(GraphRetryableError);
      expect(err).toMatchObject({ httpStatus: 0 });
      expect(err.message).toMatch(/timed out/);
    } finally {
      await impatient.close();
    }
  });

  test('latency alone only slows the answer down', async () => {
    const waba = sandbox.world.createWaba();
    sandbox.world.injectFault({ kind: 'latency', latencyMs: 150 });
    const started = Date.now();
    await expect(graph.getWabaOnboardingStatus(waba.id)).resolves.toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('nobody listening is retryable', async () => {
    const closed = createSandbox({ appId: APP_ID, appSecret: APP_SECRET, accessToken: TOKEN });
    const { url: deadUrl } = await closed.listen(0);
    await closed.close();
    const client = clientWith({ baseUrl: deadUrl });
    try {
      await expect(client.getWabaOnboardingStatus('123')).rejects.toMatchObject({ name: 'GraphRetryableError', httpStatus: 0 });
    } finally {
      await client.close();
    }
  });
});

describe('secrets', () => {
  test('no token, app secret or OAuth code appears in any error the client throws', async () => {
    const waba = sandbox.world.createWaba();
    const code = sandbox.world.issueSignupCode(waba.id);
    const { accessToken: minted } = await graph.exchangeCode(code);
    const errors: Error[] = [];
    const collect = async (p: Promise<unknown>) => errors.push(await failureOf(p));

    await collect(graph.exchangeCode(code)); // reused
    sandbox.world.injectFault({ endpoint: 'oauth', kind: 'transient' });
    await collect(graph.exchangeCode(sandbox.world.issueSignupCode(waba.id)));
    sandbox.world.injectFault({ endpoint: 'oauth', kind: 'latency', latencyMs: 1_000 });
    const impatient = clientWith({ timeoutMs: 50 });
    const secondCode = sandbox.world.issueSignupCode(waba.id);
    await collect(impatient.exchangeCode(secondCode));
    await impatient.close();
    sandbox.world.injectFault({ kind: 'token_expired' });
    await collect(graph.listPhoneNumbers(waba.id, minted));
    await collect(graph.listPhoneNumbers(sandbox.world.createWaba().id, minted));
    const wrongSecret = clientWith({ appSecret: `${APP_SECRET}-old` });
    await collect(wrongSecret.exchangeCode(sandbox.world.issueSignupCode(waba.id)));
    await wrongSecret.close();

    expect(errors).toHaveLength(6);
    for (const err of errors) {
      const everything = [err.message, err.stack, JSON.stringify(err), String((err as { cause?: unknown }).cause)].join('\n');
      for (const secret of [TOKEN, APP_SECRET, code, secondCode, minted]) expect(everything).not.toContain(secret);
    }
  });
});
