import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { WorkflowNotFoundError } from '@temporalio/client';
import { metaJson } from '../../../sandbox';
import { onboardingWorkflowId, type OnboardingState } from '../../../workflows/types';
import { termsSignedSignal } from '../../../workflows/messages';
import { OnboardingPathKey } from '../../../temporal/search-attributes';
import { signatureOf } from '../../../api/webhooks/signature';
import { eventually, startAppHarness, TEST_SECRETS, webhookBody, type AppHarness } from '../../harness/app-harness';
import { WEBHOOK_ONLY } from '../../harness/stack';


let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

async function startOnboarding(wabaId: string, businessId: string): Promise<void> {
  const res = await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId, businessId, path: 'manual', options: WEBHOOK_ONLY });
  expect(res.status).toBe(201);
  await h.stack.waitForStatus(wabaId, 'AWAITING_TERMS');
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await h.http().get('/metrics')).text;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function workflowExists(wabaId: string): Promise<boolean> {
  try {
    await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

const termsChange = (wabaId: string, businessId: string) => ({
  field: 'account_update',
  value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: wabaId, owner_business_id: businessId } },
});

describe("Meta's verification handshake", () => {
  test('echoes hub.challenge when the verify token matches', async () => {
    const res = await h
      .http()
      .get('/webhooks/whatsapp')
      .query({ 'hub.mode': 'subscribe', 'hub.verify_token': TEST_SECRETS.verifyToken, 'hub.challenge': '1158201444' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('1158201444');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });

  test('refuses a wrong verify token (or mode) with 403', async () => {
    const wrongToken = await h
      .http()
      .get('/webhooks/whatsapp')
      .query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': '1' });
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.body.error.code).toBe('forbidden');
    const wrongMode = await h
      .http()
      .get('/webhooks/whatsapp')
      .query({ 'hub.mode': 'unsubscribe', 'hub.verify_token': TEST_SECRETS.verifyToken, 'hub.challenge': '1' });
    expect(wrongMode.status).toBe(403);
  });

  test('a hub.challenge over 1024 characters is refused as too long, naming it', async () => {
    const verify = (challenge: string) =>
      h.http().get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': TEST_SECRETS.verifyToken, 'hub.challenge': challenge });
    const tooLong = await verify('7'.repeat(1025));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toEqual({
      code: 'invalid_request',
      message: expect.stringMatching(/hub\.challenge is too long/),
      details: [{ in: 'query', path: 'hub.challenge', message: 'too long' }],
    });
    expect((await verify('7'.repeat(1024))).text).toBe('7'.repeat(1024));
    const missing = await h.http().get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': TEST_SECRETS.verifyToken });
    expect(missing.body.error.message).toBe('hub.challenge is missing');
  });
});

/** POSTs `wire` (exactly these bytes) with `encoding`, signed over `signed`. */
async function postEncoded(wire: Buffer, encoding: string, signed: Buffer): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Content-Encoding': encoding,
      'X-Hub-Signature-256': signatureOf(signed, TEST_SECRETS.appSecret),
    },
    body: wire,
  });
  return { status: res.status, body: await res.json() };
}

describe('webhook signature', () => {
  test('a delivery signed over its exact bytes is accepted', async () => {
    const res = await h.postWebhook(webhookBody([{ id: '1', changes: [{ field: 'messages', value: {} }] }]));
    expect(res.status).toBe(200);
  });

  test('a missing or wrong signature is refused with 401 and nothing is applied', async () => {
    const waba = world().createWaba();
    const body = webhookBody([{ id: '1', changes: [termsChange(waba.id, waba.ownerBusinessId)] }]);

    const unsigned = await h.http().post('/webhooks/whatsapp').set('Content-Type', 'application/json').send(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe('unauthorized');

    const otherSecret = `sha256=${createHmac('sha256', 'not-the-app-secret').update(body).digest('hex')}`;
    const wrong = await h.http().post('/webhooks/whatsapp').set('X-Hub-Signature-256', otherSecret).send(body);
    expect(wrong.status).toBe(401);

    const garbage = await h.http().post('/webhooks/whatsapp').set('X-Hub-Signature-256', 'sha256=zz').send(body);
    expect(garbage.status).toBe(401);

    expect(await workflowExists(waba.id)).toBe(false);
  });

  test('the signature covers the bytes as sent: the same JSON re-serialised is refused', async () => {
    const waba = world().createWaba();
    // Meta escapes "/" and non-ASCII; JSON.stringify of the parsed body gives other bytes.
    const original = metaJson({
      object: 'whatsapp_business_account',
      entry: [{ id: waba.ownerBusinessId, time: 1, changes: [{ field: 'account_update', value: { event: 'NEW/THING', note: 'café' } }] }],
    });
    const reserialised = JSON.stringify(JSON.parse(original));
    expect(reserialised).not.toBe(original);
    const signature = `sha256=${createHmac('sha256', TEST_SECRETS.appSecret).update(original).digest('hex')}`;

    const res = await h.http().post('/webhooks/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signature).send(reserialised);
    expect(res.status).toBe(401);
    const ok = await h.http().post('/webhooks/whatsapp').set('Content-Type', 'application/json').set('X-Hub-Signature-256', signature).send(original);
    expect(ok.status).toBe(200);
  });

  test('a body over 1 MB is refused with 413', async () => {
    const huge = webhookBody([{ id: '1', changes: [{ field: 'messages', value: { pad: 'x'.repeat(1024 * 1024) } }] }]);
    const res = await h.postWebhook(huge);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  test('a gzip delivery is checked over its compressed bytes, as received, then applied', async () => {
    const waba = world().createWaba({ autoSign: false });
    const json = Buffer.from(webhookBody([{ id: waba.ownerBusinessId, changes: [termsChange(waba.id, waba.ownerBusinessId)] }]));
    const gzipped = gzipSync(json);

    const signedOverInflated = await postEncoded(gzipped, 'gzip', json);
    expect(signedOverInflated.status).toBe(401);
    expect(await workflowExists(waba.id)).toBe(false);

    const signedOverWire = await postEncoded(gzipped, 'gzip', gzipped);
    expect(signedOverWire.status).toBe(200);
    expect(signedOverWire.body).toEqual({ received: 1, unusable: 0 });
    expect(await workflowExists(waba.id)).toBe(true);
  });

  test('a compressed body that inflates past 1 MB is refused with 413, and only after its signature is checked', async () => {
    const bomb = gzipSync(Buffer.from(webhookBody([{ id: '1', changes: [{ field: 'messages', value: { pad: ' '.repeat(8 * 1024 * 1024) } }] }])));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const unsigned = await postEncoded(bomb, 'gzip', Buffer.from('something else'));
    expect(unsigned.status).toBe(401);
    const signed = await postEncoded(bomb, 'gzip', bomb);
    expect(signed.status).toBe(413);
    expect(signed.body.error.code).toBe('payload_too_large');
    const unknownEncoding = await postEncoded(bomb, 'br', bomb);
    expect(unknownEncoding.status).toBe(415);
  });

  test('the 1000-change cap is on the whole delivery, summed over its entries', async () => {
    const entries = (perEntry: number) =>
      [1, 2].map((i) => ({ id: String(i), changes: Array.from({ length: perEntry }, () => ({ field: 'messages', value: {} })) }));
    const tooMany = await h.postWebhook(webhookBody(entries(501)));
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.message).toContain('1002');
    const atTheCap = await h.postWebhook(webhookBody(entries(500)));
    expect(atTheCap.status).toBe(200);
    expect(atTheCap.body).toEqual({ received: 1000, unusable: 0 });
  });

  test('signed but malformed bodies are refused with 400', async () => {
    const notJson = await h.postWebhook('{"object": "whatsapp_business_account", "entry": [');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_request');
    const notEnvelope = await h.postWebhook(JSON.stringify({ hello: 'world' }));
    expect(notEnvelope.status).toBe(400);
  });

  test('a log line per delivery, without the signature or the body', async () => {
    const before = h.logs.lines.length;
    await h.postWebhook(webhookBody([{ id: '1', changes: [{ field: 'phone_number_quality_update', value: { secret: 'body-text-marker' } }] }]));
    const lines = h.logs.lines.slice(before).filter((l) => l.message === 'webhook delivery');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toMatch(/body-text-marker|sha256=/);
  });
});

describe('webhook changes', () => {
  test('unknown fields and events are acknowledged and counted', async () => {
    const before = await metricValue('mm_webhook_changes_total', { event: 'unknown', outcome: 'ignored' });
    const res = await h.postWebhook(
      webhookBody([
        { id: '1', changes: [{ field: 'phone_number_quality_update', value: { event: 'FLAGGED' } }] },
        { id: '2', changes: [{ field: 'account_update', value: { event: 'SOMETHING_META_ADDS_LATER' } }] },
      ]),
    );
    expect(res.status).toBe(200);
    expect(await metricValue('mm_webhook_changes_total', { event: 'unknown', outcome: 'ignored' })).toBe(before + 2);
    expect(await metricValue('mm_webhook_deliveries_total', { outcome: 'ignored' })).toBeGreaterThan(0);
  });

  test('a terms webhook for a WABA nobody is onboarding starts a manual onboarding', async () => {
    const waba = world().createWaba({ autoSign: false });
    const [delivery] = await world().signTerms(waba.id);
    expect(delivery.status).toBe(200);

    const state = await h.stack.waitForState(waba.id, (s) => s.termsSource !== undefined);
    expect(state).toMatchObject({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', termsSource: 'webhook' });
    const description = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).describe();
    expect(description.typedSearchAttributes.get(OnboardingPathKey)).toBe('manual');
  });

  test('duplicate terms webhooks (and the legacy echo) change nothing', async () => {
    const waba = world().createWaba({ autoSign: false });
    await startOnboarding(waba.id, waba.ownerBusinessId);

    const deliveries = await world().signTerms(waba.id, { duplicate: 3, legacy: true });
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const ready = await h.stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('webhook');

    // Meta retries for days: one more copy after READY is still harmless.
    await world().signTerms(waba.id);
    const after = await h.stack.state(waba.id);
    expect(after.termsSource).toBe('webhook');
    expect(after.termsSignedAt).toBe(ready.termsSignedAt);
    expect(after.history.filter((e) => e.status === 'SYNCING_TEMPLATES')).toHaveLength(1);
    expect(after.history.filter((e) => e.status === 'READY')).toHaveLength(1);
  });

  test("a terms webhook whose time is implausible (years ahead or back) records the receive time instead, and says so; a plausible one keeps Meta's", async () => {
    const [ahead, back, plausible] = [0, 1, 2].map(() => world().createWaba({ autoSign: false }));
    for (const w of [ahead, back, plausible]) await startOnboarding(w.id, w.ownerBusinessId);
    const plausibleTime = Math.floor(Date.now() / 1000) - 120;
    const terms = (wabaId: string, time: number) => ({
      id: 'abc',
      time,
      changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: wabaId } } }],
    });
    const receivedFrom = Date.now();
    const res = await h.postWebhook(
      JSON.stringify({ object: 'whatsapp_business_account', entry: [terms(ahead.id, 99_999_999_999), terms(back.id, 1), terms(plausible.id, plausibleTime)] }),
    );
    const receivedTo = Date.now();
    expect(res.status).toBe(200);

    for (const w of [ahead, back]) {
      const signedAt = Date.parse((await h.stack.waitForState(w.id, (s) => s.termsSignedAt !== undefined)).termsSignedAt!);
      expect(signedAt).toBeGreaterThanOrEqual(receivedFrom - 1000);
      expect(signedAt).toBeLessThanOrEqual(receivedTo + 1000);
    }
    const kept = await h.stack.waitForState(plausible.id, (s) => s.termsSignedAt !== undefined);
    expect(kept.termsSignedAt).toBe(new Date(plausibleTime * 1000).toISOString());
    const said = h.logs.lines.filter((line) => line.message === 'webhook time not plausible: the receive time stands in');
    expect(said.map((line) => [line.meta?.wabaId, line.meta?.time])).toEqual([
      [ahead.id, 99_999_999_999],
      [back.id, 1],
    ]);
  });

  test('the same change 1,000 times in one delivery is one signal: the copies are counted as duplicates, not written to the history', async () => {
    const waba = world().createWaba({ autoSign: false });
    await startOnboarding(waba.id, waba.ownerBusinessId);
    const duplicatesBefore = await metricValue('mm_webhook_changes_total', { outcome: 'duplicate', event: 'MM_LITE_TERMS_SIGNED' });
    const change = { field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: waba.id } } };
    const res = await h.postWebhook(
      JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'abc', time: Math.floor(Date.now() / 1000), changes: Array(1000).fill(change) }] }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 1000, unusable: 0 });
    await h.stack.waitForState(waba.id, (s) => s.termsSignedAt !== undefined);

    const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).fetchHistory();
    const termsSignals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === termsSignedSignal.name);
    expect(termsSignals).toHaveLength(1);
    expect(await metricValue('mm_webhook_changes_total', { outcome: 'duplicate', event: 'MM_LITE_TERMS_SIGNED' })).toBe(duplicatesBefore + 999);
  });

  test('the legacy AD_ACCOUNT_LINKED alone completes an onboarding as legacy_webhook', async () => {
    const waba = world().createWaba({ autoSign: false });
    await startOnboarding(waba.id, waba.ownerBusinessId);
    await world().signTerms(waba.id, { onlyLegacy: true, legacyField: 'ad_account_linked' });
    const ready = await h.stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('legacy_webhook');
  });

  test('one POST with several entries and changes reaches every WABA it names', async () => {
    const partner = world().createBusiness();
    const a = world().createWaba({ autoSign: false, partnerBusinessId: partner.id });
    const b = world().createWaba({ autoSign: false, partnerBusinessId: partner.id });
    const c = world().createWaba({ autoSign: false });
    for (const w of [a, b, c]) await startOnboarding(w.id, w.ownerBusinessId);

    const [delivery] = await world().signTerms(a.id, { batchWith: [b.id, c.id] });
    const sent = JSON.parse(delivery.body) as { entry: Array<{ changes: unknown[] }> };
    expect(sent.entry).toHaveLength(2); // the partner's entry with two changes, and c's owner's
    expect(sent.entry.flatMap((e) => e.changes)).toHaveLength(3);
    expect(delivery.status).toBe(200);

    for (const w of [a, b, c]) {
      const state = await h.stack.waitForStatus(w.id, 'READY');
      expect(state.termsSource).toBe('webhook');
    }
  });

  test('account events in one POST each reach their WABA (keyed on waba_info, else the entry)', async () => {
    const partner = world().createBusiness();
    const violated = world().createWaba({ autoSign: false });
    const removed = world().createWaba({ autoSign: false, partnerBusinessId: partner.id });
    for (const w of [violated, removed]) await startOnboarding(w.id, w.ownerBusinessId);

    const res = await h.postWebhook(
      webhookBody([
        // Violations come on the WABA's own entry, without waba_info.
        { id: violated.id, changes: [{ field: 'account_update', value: { event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'SCAM' } } }] },
        // Partner events come on the partner's entry, with waba_info.
        {
          id: partner.id,
          changes: [
            { field: 'account_update', value: { event: 'PARTNER_REMOVED', waba_info: { waba_id: removed.id, owner_business_id: removed.ownerBusinessId } } },
            { field: 'messages', value: {} },
          ],
        },
      ]),
    );
    expect(res.status).toBe(200);

    const v: OnboardingState = await h.stack.waitForStatus(violated.id, 'NEEDS_ATTENTION');
    expect(v.statusReason).toContain('ACCOUNT_VIOLATION');
    expect(v.statusReason).toContain('SCAM');
    const r = await h.stack.waitForStatus(removed.id, 'OFFBOARDED');
    expect(r.statusReason).toContain('PARTNER_REMOVED');
    expect(await workflowExists(partner.id)).toBe(false);
  });

  test('an account event for a WABA with no onboarding is acknowledged, not retried', async () => {
    const waba = world().createWaba();
    const before = await metricValue('mm_webhook_changes_total', { event: 'ACCOUNT_RESTRICTION', outcome: 'no_onboarding' });
    const delivery = await world().emitAccountEvent(waba.id, 'ACCOUNT_RESTRICTION');
    expect(delivery.status).toBe(200);
    expect(delivery.attempts).toHaveLength(1);
    expect(await workflowExists(waba.id)).toBe(false);
    expect(await metricValue('mm_webhook_changes_total', { event: 'ACCOUNT_RESTRICTION', outcome: 'no_onboarding' })).toBe(before + 1);
  });

  test('unusable entries and changes are counted; the usable ones beside them are applied, and the answer is 200', async () => {
    const violated = world().createWaba({ autoSign: false });
    const linked = world().createWaba({ autoSign: false });
    for (const w of [violated, linked]) await startOnboarding(w.id, w.ownerBusinessId);
    const invalidBefore = await metricValue('mm_webhook_changes_total', { outcome: 'invalid', event: 'ACCOUNT_RESTRICTION' });

    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        // Unusable: no WABA id anywhere (entry.id is not one, and there is no waba_info).
        { id: 'abc', time: { seconds: 1 }, changes: [{ field: 'account_update', value: { event: 'ACCOUNT_RESTRICTION' } }] },
        {
          id: 'abc',
          time: { seconds: 1 },
          changes: [
            // Usable: keyed on waba_info; the entry's id and time, and keys nobody knows, do not matter.
            { field: 'account_update', value: { event: 'ACCOUNT_VIOLATION', waba_info: { waba_id: violated.id }, violation_info: { violation_type: 'SCAM' }, new_meta_key: [1] } },
            'not a change',
            // Unusable: the WABA id it keys on is not an id.
            { field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED', waba_info: { waba_id: 'WABA-1' } } },
            { field: 'account_update', value: { no_event: true } },
          ],
        },
        { id: 42, changes: 'none' },
        {
          id: linked.ownerBusinessId,
          time: '2026-11-25T10:00:00Z',
          changes: [
            {
              field: 'account_update',
              value: {
                event: 'AD_ACCOUNT_LINKED',
                waba_info: { waba_id: Number(linked.id), owner_business_id: 'business-x', ad_account_id: 'act_1234567890' },
                ban_info: 'none',
                restriction_info: { not: 'a list' },
              },
            },
          ],
        },
      ],
    });
    const res = await h.postWebhook(body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 7, unusable: 5 });

    const v = await h.stack.waitForStatus(violated.id, 'NEEDS_ATTENTION');
    expect(v.statusReason).toContain('SCAM');
    const l = await h.stack.waitForStatus(linked.id, 'READY');
    expect(l.termsSource).toBe('legacy_webhook');
    expect(await metricValue('mm_webhook_changes_total', { outcome: 'invalid', event: 'ACCOUNT_RESTRICTION' })).toBe(invalidBefore + 1);
    const warned = h.logs.lines.filter((line) => line.message === 'webhook change not usable');
    expect(warned.map((line) => line.meta?.reason)).toEqual(expect.arrayContaining([expect.stringContaining('waba_info.waba_id')]));
  });

  test('a terms change without waba_info is not guessed from entry.id', async () => {
    const business = world().createBusiness();
    const res = await h.postWebhook(
      webhookBody([{ id: business.id, changes: [{ field: 'account_update', value: { event: 'MM_LITE_TERMS_SIGNED' } }] }]),
    );
    expect(res.status).toBe(200);
    expect(await workflowExists(business.id)).toBe(false);
    await eventually(async () => ((await metricValue('mm_webhook_changes_total', { event: 'MM_LITE_TERMS_SIGNED', outcome: 'invalid' })) > 0 ? true : undefined));
  });
});
