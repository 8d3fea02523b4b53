import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox, type WebhookBody } from '../../sandbox';

/** The sandbox's `account_update` webhooks, caught by a small receiver on 127.0.0.1. */

const APP_SECRET = 'webhook-test-app-secret';

interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
}

/** Records every POST as raw bytes; answers the statuses queued in `answers`, then 200. */
class Receiver {
  readonly received: Received[] = [];
  answers: number[] = [];
  url = '';
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(this.answers.shift() ?? 200).end();
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/whatsapp`;
  }

  bodies(): WebhookBody[] {
    return this.received.map((r) => JSON.parse(r.raw.toString('utf8')) as WebhookBody);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** What a correct receiver does: HMAC over the bytes as received, compared in constant time. */
function signatureValid(r: Received, secret = APP_SECRET): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`);
  const given = Buffer.from(String(r.headers['x-hub-signature-256'] ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let receiver: Receiver;
let sandbox: Sandbox;

beforeEach(async () => {
  receiver = new Receiver();
  await receiver.start();
  sandbox = createSandbox({
    appId: 'app',
    appSecret: APP_SECRET,
    accessToken: 'system-token',
    webhookUrl: receiver.url,
    webhookRetry: { attempts: 4, backoffMs: 20 },
  });
});

afterEach(async () => {
  await sandbox.close();
  await receiver.stop();
});

describe('terms signed', () => {
  test('sends MM_LITE_TERMS_SIGNED in the seed\'s shape, keyed by the partner, and onboards the WABA', async () => {
    const waba = sandbox.world.createWaba({ partnerBusinessId: '111111111111111' });
    const [delivery] = await sandbox.world.signTerms(waba.id);

    expect(delivery).toMatchObject({ state: 'delivered', status: 200, events: ['MM_LITE_TERMS_SIGNED'], wabaIds: [waba.id] });
    expect(receiver.bodies()).toEqual([
      {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '111111111111111',
            time: expect.any(Number),
            changes: [
              {
                field: 'account_update',
                value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { owner_business_id: waba.ownerBusinessId, waba_id: waba.id } },
              },
            ],
          },
        ],
      },
    ]);
    expect(receiver.received[0].headers['content-type']).toBe('application/json');
    expect(sandbox.world.waba(waba.id).onboardingStatus).toBe('ONBOARDED');
    expect(sandbox.world.business(waba.ownerBusinessId).onboarding.status).toBe('TERM_OF_SERVICE_SIGNED');
  });

  test('the signature verifies over the raw bytes, and not over a re-serialised body', async () => {
    const waba = sandbox.world.createWaba({ name: 'Café Zoë / Bar' });
    await sandbox.world.deliverRaw({ object: 'whatsapp_business_account', entry: [{ id: waba.id, time: 1, changes: [{ field: 'account_update', value: { event: 'PARTNER_ADDED', note: 'Café Zoë / Bar ✓' } }] }] });
    const [r] = receiver.received;
    const raw = r.raw.toString('utf8');

    expect(signatureValid(r)).toBe(true);
    expect(signatureValid(r, 'another-secret')).toBe(false);
    // Meta escapes non-ASCII and "/": a receiver hashing JSON.stringify(JSON.parse(body)) gets other bytes.
    expect(raw).toContain('Caf\\u00e9 Zo\\u00eb \\/ Bar \\u2713');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw)));
    expect(signatureValid({ raw: reserialised, headers: r.headers })).toBe(false);
  });

  test('a string body is delivered byte for byte', async () => {
    const body = '{"object":"whatsapp_business_account",  "entry":[]}\n';
    const delivery = await sandbox.world.deliverRaw(body);
    expect(receiver.received[0].raw.toString('utf8')).toBe(body);
    expect(signatureValid(receiver.received[0])).toBe(true);
    expect(delivery.signature).toBe(receiver.received[0].headers['x-hub-signature-256']);
  });

  test('duplicates are the same bytes with the same signature', async () => {
    const waba = sandbox.world.createWaba();
    const deliveries = await sandbox.world.signTerms(waba.id, { duplicate: 3 });
    expect(deliveries).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.raw.toString('hex'))).size).toBe(1);
    expect(receiver.received.every((r) => signatureValid(r))).toBe(true);
  });

  test('a batch is one POST, grouped into one entry per partner business', async () => {
    const a = sandbox.world.createWaba({ partnerBusinessId: '111111111111111' });
    const b = sandbox.world.createWaba({ partnerBusinessId: '111111111111111' });
    const c = sandbox.world.createWaba({ partnerBusinessId: '222222222222222' });
    await sandbox.world.signTerms(a.id, { batchWith: [b.id, c.id] });

    expect(receiver.received).toHaveLength(1);
    const [body] = receiver.bodies();
    expect(body.entry.map((e) => [e.id, e.changes.map((ch) => (ch.value.waba_info as { waba_id: string }).waba_id)])).toEqual([
      ['111111111111111', [a.id, b.id]],
      ['222222222222222', [c.id]],
    ]);
    for (const w of [a, b, c]) expect(sandbox.world.waba(w.id).onboardingStatus).toBe('ONBOARDED');
  });

  test('legacy: AD_ACCOUNT_LINKED follows in its own POST, keyed by the WABA, with waba_info.ad_account_id', async () => {
    const waba = sandbox.world.createWaba();
    await sandbox.world.signTerms(waba.id, { legacy: true });
    const [terms, legacy] = receiver.bodies();
    expect(terms.entry[0].changes[0].value.event).toBe('MM_LITE_TERMS_SIGNED');
    expect(legacy.entry).toEqual([
      {
        id: waba.id,
        time: expect.any(Number),
        changes: [
          {
            field: 'account_update',
            value: {
              event: 'AD_ACCOUNT_LINKED',
              waba_info: { waba_id: waba.id, ad_account_id: waba.adAccountId, owner_business_id: waba.ownerBusinessId },
            },
          },
        ],
      },
    ]);
  });

  test('legacy only, in the reference\'s ad_account_linked variant', async () => {
    const waba = sandbox.world.createWaba({ partnerBusinessId: '333333333333333' });
    await sandbox.world.signTerms(waba.id, { onlyLegacy: true, legacyField: 'ad_account_linked' });
    const bodies = receiver.bodies();
    expect(bodies).toHaveLength(1);
    expect(bodies[0].entry[0].id).toBe('333333333333333');
    expect(bodies[0].entry[0].changes[0].value).toEqual({
      event: 'AD_ACCOUNT_LINKED',
      waba_info: { waba_id: waba.id, ad_account_linked: waba.adAccountId, owner_business_id: waba.ownerBusinessId },
    });
  });
});

describe('delivery retries', () => {
  test('a 500 is retried until the receiver answers 2xx', async () => {
    receiver.answers = [500, 503];
    const [delivery] = await sandbox.world.signTerms(sandbox.world.createWaba().id);
    expect(delivery.state).toBe('delivered');
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.raw.toString('hex'))).size).toBe(1);
  });

  test('tries are bounded; the delivery is recorded as failed', async () => {
    receiver.answers = [500, 500, 500, 500, 500, 500];
    const started = Date.now();
    const [delivery] = await sandbox.world.signTerms(sandbox.world.createWaba().id);
    expect(delivery.state).toBe('failed');
    expect(delivery.attempts).toHaveLength(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 + 80); // backoff doubles
    expect(sandbox.world.deliveries).toContain(delivery);
  });

  test('a receiver that is down counts as a failed try', async () => {
    await receiver.stop();
    const [delivery] = await sandbox.world.signTerms(sandbox.world.createWaba().id);
    expect(delivery.state).toBe('failed');
    expect(delivery.attempts.every((a) => a.status === undefined && a.error)).toBe(true);
    receiver = new Receiver(); // afterEach stops a fresh one
    await receiver.start();
  });

  test('without a webhook URL nothing is sent, and the delivery says so', async () => {
    sandbox.world.setWebhookUrl(undefined);
    const [delivery] = await sandbox.world.signTerms(sandbox.world.createWaba().id);
    expect(delivery.state).toBe('skipped');
    expect(receiver.received).toHaveLength(0);
  });
});

describe('account events', () => {
  test('DISABLED_UPDATE carries ban_info under the WABA\'s entry and restricts the WABA', async () => {
    const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
    await sandbox.world.emitAccountEvent(waba.id, 'DISABLED_UPDATE');
    const [body] = receiver.bodies();
    expect(body.entry[0].id).toBe(waba.id);
    expect(body.entry[0].changes[0].value).toEqual({
      event: 'DISABLED_UPDATE',
      ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: expect.stringMatching(/^[A-Z][a-z]+ \d{1,2}, \d{4}$/) },
    });
    expect(sandbox.world.waba(waba.id).onboardingStatus).toBe('INELIGIBLE_INACTIVE_OR_RESTRICTED');

    await sandbox.world.emitAccountEvent(waba.id, 'DISABLED_UPDATE', { ban_info: { waba_ban_state: 'REINSTATE', waba_ban_date: 'April 17, 2025' } });
    expect(sandbox.world.waba(waba.id).onboardingStatus).toBe('ONBOARDED');
  });

  test('ACCOUNT_RESTRICTION carries restriction_info', async () => {
    const waba = sandbox.world.createWaba();
    await sandbox.world.emitAccountEvent(waba.id, 'ACCOUNT_RESTRICTION');
    expect(receiver.bodies()[0].entry[0].changes[0].value).toEqual({
      event: 'ACCOUNT_RESTRICTION',
      restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: expect.stringMatching(/\+0000$/) }],
    });
  });

  test('PARTNER_REMOVED carries waba_info under the partner\'s entry and unshares the WABA', async () => {
    const waba = sandbox.world.createWaba({ partnerBusinessId: '444444444444444' });
    await sandbox.world.emitAccountEvent(waba.id, 'PARTNER_REMOVED');
    const [body] = receiver.bodies();
    expect(body.entry[0].id).toBe('444444444444444');
    expect(body.entry[0].changes[0].value).toEqual({
      event: 'PARTNER_REMOVED',
      waba_info: { waba_id: waba.id, owner_business_id: waba.ownerBusinessId },
    });
    expect(sandbox.world.waba(waba.id).partnerBusinessId).toBeUndefined();
  });

  test('PARTNER_REMOVED revokes the tokens minted for the WABA', async () => {
    const waba = sandbox.world.createWaba();
    const other = sandbox.world.createWaba();
    sandbox.world.redeemSignupCode(sandbox.world.issueSignupCode(waba.id));
    sandbox.world.redeemSignupCode(sandbox.world.issueSignupCode(other.id));
    expect(sandbox.world.tokensOf(waba.id)).toHaveLength(1);
    await sandbox.world.emitAccountEvent(waba.id, 'PARTNER_REMOVED');
    expect(sandbox.world.tokensOf(waba.id)).toEqual([]);
    expect(sandbox.world.tokensOf(other.id)).toHaveLength(1);
  });

  test('ACCOUNT_DELETED removes the WABA from the world', async () => {
    const waba = sandbox.world.createWaba();
    const delivery = await sandbox.world.emitAccountEvent(waba.id, 'ACCOUNT_DELETED', { reason: 'test' });
    expect(delivery.events).toEqual(['ACCOUNT_DELETED']);
    expect(receiver.bodies()[0].entry[0].changes[0].value).toEqual({ event: 'ACCOUNT_DELETED', reason: 'test' });
    expect(sandbox.world.wabas.has(waba.id)).toBe(false);
  });
});

describe('auto mode', () => {
  let auto: Sandbox;
  let url: string;

  beforeEach(async () => {
    auto = createSandbox({ appId: 'app', appSecret: APP_SECRET, accessToken: 'system-token', webhookUrl: receiver.url, autoSignTermsAfterMs: 50 });
    ({ url } = await auto.listen(0));
  });

  afterEach(() => auto.close());

  const graphCall = async (method: string, path: string) => {
    const res = await fetch(`${url}/v24.0${path}`, { method, headers: { authorization: 'Bearer system-token' } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Waits (bounded) until `count` webhooks arrived, then a little longer to catch extras. */
  const webhooksSettle = async (count: number) => {
    for (let i = 0; i < 100 && receiver.received.length < count; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 150));
  };

  test('an Intent request signs every WABA of the business the Intent path can onboard, one webhook each', async () => {
    const business = auto.world.createBusiness();
    const eligible = auto.world.createWaba({ ownerBusinessId: business.id });
    const obo = auto.world.createWaba({ ownerBusinessId: business.id, onboardingStatus: 'INELIGIBLE_ON_BEHALF_OF_WABA' });
    const manual = auto.world.createWaba({ ownerBusinessId: business.id, autoSign: false });
    const pending = auto.world.createWaba({ ownerBusinessId: business.id, onboardingStatus: 'PENDING_VALID_PAYMENT_METHOD' });
    const otherBusiness = auto.world.createWaba();

    expect(await graphCall('POST', `/${business.id}/onboard_partners_to_mm_lite`)).toMatchObject({ status: 200 });
    await webhooksSettle(2);

    const signed = receiver.bodies().map((b) => (b.entry[0].changes[0].value.waba_info as { waba_id: string }).waba_id);
    expect(signed.sort()).toEqual([eligible.id, obo.id].sort());
    for (const w of [manual, pending, otherBusiness]) expect(auto.world.waba(w.id).onboardingStatus).not.toBe('ONBOARDED');
  });

  test('a repeated Intent request covers a WABA that became eligible since', async () => {
    const business = auto.world.createBusiness({ repeatAnswer: 'already_sent' });
    const waba = auto.world.createWaba({ ownerBusinessId: business.id, onboardingStatus: 'PENDING_VALID_PAYMENT_METHOD' });
    await graphCall('POST', `/${business.id}/onboard_partners_to_mm_lite`);
    await webhooksSettle(0);
    expect(receiver.received).toHaveLength(0);
    auto.world.setStatus(waba.id, 'ELIGIBLE');
    expect((await graphCall('POST', `/${business.id}/onboard_partners_to_mm_lite`)).body).toMatchObject({ error: { code: 100 } });
    await webhooksSettle(1);
    expect(receiver.received).toHaveLength(1);
    expect(auto.world.waba(waba.id).onboardingStatus).toBe('ONBOARDED');
  });

  test('a code exchange signs that WABA', async () => {
    const waba = auto.world.createWaba();
    const code = auto.world.issueSignupCode(waba.id);
    const res = await fetch(`${url}/v24.0/oauth/access_token?client_id=app&client_secret=${APP_SECRET}&code=${code}`);
    expect(res.status).toBe(200);
    await webhooksSettle(1);
    expect(receiver.received).toHaveLength(1);
    expect(auto.world.waba(waba.id).onboardingStatus).toBe('ONBOARDED');
  });
});
