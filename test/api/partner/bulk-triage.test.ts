/**
 * Triage without clicking through one WABA at a time: the list filtered by reason kind and age and
 * sorted by how long each has waited, its NDJSON export (every page), a reason on every row GET has
 * one for (a WABA waiting for a payment method included), and a bulk recheck of a business's or a
 * reason kind's parked onboardings in one call (POST /v1/rechecks), each WABA's read budget kept. On
 * the real dev server and the sandbox; every /v1 answer checked against /openapi.json.
 */
import request from 'supertest';
import { exportOnboardings, type OnboardingSummary } from '../../../api/partner/onboarding-list';
import { STATUS_READS_PER_DAY } from '../../../workflows/graph-budget';
import { newInbox, type OnboardingRunInput } from '../../../workflows/onboarding-inbox';
import { onboardingStartOptions } from '../../../workflows/start-options';
import { OnboardingReasonKindKey, OnboardingStatusKey } from '../../../temporal/search-attributes';
import type { OnboardingInput } from '../../../workflows/types';
import { eventually, FAST, startAppHarness, type AppHarness } from '../../harness/app-harness';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const start = (body: object) => h.http().post('/v1/onboardings').set(h.auth).send(body);
const list = (query: Record<string, string>) => h.http().get('/v1/onboardings').query(query).set(h.auth);

/** A business with two WABAs parked for an expired token, one for a missing permission, and one waiting for the terms. */
async function businessWithParkedWabas() {
  const business = world().createBusiness();
  const waba = () => world().createWaba({ autoSign: false, ownerBusinessId: business.id });
  const [expiredA, expiredB, forbidden, waiting] = [waba(), waba(), waba(), waba()];
  for (const w of [expiredA, expiredB]) world().injectFault({ endpoint: 'waba_status', wabaId: w.id, kind: 'token_expired', times: Infinity });
  world().injectFault({ endpoint: 'waba_status', wabaId: forbidden.id, kind: 'permission', times: Infinity });
  for (const w of [expiredA, expiredB, forbidden, waiting]) {
    expect((await start({ wabaId: w.id, businessId: business.id, path: 'manual', options: { ...FAST, statusPollIntervalSeconds: 3600 } })).status).toBe(201);
  }
  for (const w of [expiredA, expiredB, forbidden]) await h.stack.waitForStatus(w.id, 'NEEDS_ATTENTION');
  await h.stack.waitForStatus(waiting.id, 'AWAITING_TERMS');
  return { business, expiredA, expiredB, forbidden, waiting };
}

let parked: Awaited<ReturnType<typeof businessWithParkedWabas>>;
beforeAll(async () => {
  parked = await businessWithParkedWabas();
}, 90_000);

/** The list's rows once visibility shows `rows` of them with their triage fields. */
async function listed(query: Record<string, string>, rows: number): Promise<OnboardingSummary[]> {
  return eventually(async () => {
    const res = await list(query);
    return res.status === 200 && res.body.onboardings.length === rows && res.body.onboardings.every((r: OnboardingSummary) => r.statusSince && (r.status !== 'NEEDS_ATTENTION' || r.reasonKind))
      ? res.body.onboardings
      : undefined;
  }, 20_000, `${rows} rows for ${JSON.stringify(query)}`);
}

describe('the list', () => {
  test('reasonKind lists the NEEDS_ATTENTION onboardings of that kind only', async () => {
    const businessId = parked.business.id;
    const expired = await listed({ businessId, reasonKind: 'expired_token' }, 2);
    expect(expired.map((r) => r.wabaId).sort()).toEqual([parked.expiredA.id, parked.expiredB.id].sort());
    for (const row of expired) expect(row).toMatchObject({ status: 'NEEDS_ATTENTION', reasonKind: 'expired_token', statusReason: expect.stringMatching(/code 190/) });
    expect((await listed({ businessId, reasonKind: 'missing_permission' }, 1))[0].wabaId).toBe(parked.forbidden.id);
    expect((await list({ businessId, reasonKind: 'restricted_account' })).body.onboardings).toEqual([]);
  });

  test('olderThan keeps the onboardings in their status since before a timestamp or a duration ago', async () => {
    const businessId = parked.business.id;
    const all = await listed({ businessId }, 4);
    const since = all.map((r) => Date.parse(r.statusSince!)).sort((a, b) => a - b);
    // A cutoff just after the earliest statusSince: that one row, and any other as early.
    const cutoff = new Date(since[0] + 1).toISOString();
    const older = (await list({ businessId, olderThan: cutoff })).body.onboardings as OnboardingSummary[];
    expect(older.map((r) => r.wabaId).sort()).toEqual(all.filter((r) => Date.parse(r.statusSince!) < since[0] + 1).map((r) => r.wabaId).sort());
    expect(older.length).toBeGreaterThanOrEqual(1);
    // Every row entered its status within the last hour, and before a minute from now.
    expect((await list({ businessId, olderThan: '1h' })).body.onboardings).toEqual([]);
    expect((await list({ businessId, olderThan: 'PT1H' })).body.onboardings).toEqual([]);
    expect((await list({ businessId, olderThan: new Date(Date.now() + 60_000).toISOString() })).body.onboardings).toHaveLength(4);
    expect((await list({ businessId, olderThan: '0s' })).body.onboardings).toHaveLength(4);
  });

  test('sort=statusSince lists the longest waiting first (-statusSince the newest), page after page', async () => {
    const businessId = parked.business.id;
    const all = await listed({ businessId }, 4);
    const ascending = [...all].sort((a, b) => a.statusSince!.localeCompare(b.statusSince!) || a.wabaId.localeCompare(b.wabaId)).map((r) => r.wabaId);
    const paged: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 4; page++) {
      const res = await list({ businessId, sort: 'statusSince', pageSize: '3', ...(pageToken ? { pageToken } : {}) });
      expect(res.status).toBe(200);
      paged.push(...res.body.onboardings.map((r: OnboardingSummary) => r.wabaId));
      pageToken = res.body.nextPageToken;
      if (!pageToken) break;
    }
    expect(paged).toEqual(ascending);
    const newest = await list({ businessId, sort: '-statusSince' });
    expect(newest.body.onboardings.map((r: OnboardingSummary) => r.wabaId)).toEqual([...ascending].reverse());
    // A token is good for the filters it was issued for only.
    const first = await list({ businessId, sort: 'statusSince', pageSize: '3' });
    const misused = await list({ businessId, pageSize: '3', pageToken: first.body.nextPageToken });
    expect(misused.status).toBe(400);
    expect(misused.body.error.details).toEqual([expect.objectContaining({ in: 'query', path: 'pageToken' })]);
  });

  test("a row has the statusReason GET has, a WABA still checking its eligibility while it waits for a payment method too", async () => {
    const waba = world().createWaba({ autoSign: false, onboardingStatus: 'PENDING_VALID_PAYMENT_METHOD' });
    expect((await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...FAST, statusPollIntervalSeconds: 3600 } })).status).toBe(201);
    const state = await h.stack.waitForState(waba.id, (s) => s.statusReason !== undefined);
    expect(state).toMatchObject({ status: 'CHECKING_ELIGIBILITY', statusReason: expect.stringMatching(/^PENDING_VALID_PAYMENT_METHOD: waiting for a valid payment method/) });
    const row = await eventually(async () => {
      const [r] = (await list({ businessId: waba.ownerBusinessId })).body.onboardings as OnboardingSummary[];
      return r?.statusReason ? r : undefined;
    }, 20_000, 'the row to carry its reason');
    expect(row).toMatchObject({ wabaId: waba.id, status: 'CHECKING_ELIGIBILITY', statusReason: state.statusReason });
    expect((await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth)).body.statusReason).toBe(row.statusReason);
  });

  test('bad filters are 400 naming the field', async () => {
    for (const [query, field] of [
      [{ olderThan: 'yesterday' }, 'olderThan'],
      [{ olderThan: 'P' }, 'olderThan'],
      [{ olderThan: '2026-13-45T00:00:00Z' }, 'olderThan'],
      [{ reasonKind: 'lost_keys' }, 'reasonKind'],
      [{ sort: 'startTime' }, 'sort'],
      [{ format: 'csv' }, 'format'],
      [{ format: 'ndjson', pageToken: 'abc' }, 'pageToken'],
    ] as const) {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ in: 'query', path: field })]);
    }
  });
});

describe('the NDJSON export', () => {
  test('?format=ndjson and Accept: application/x-ndjson stream every matching row, one a line, whatever the pageSize', async () => {
    const businessId = parked.business.id;
    const rows = await listed({ businessId }, 4);
    for (const ask of [
      () => list({ businessId, format: 'ndjson', pageSize: '1' }),
      () => list({ businessId, pageSize: '1' }).set('Accept', 'application/x-ndjson'),
    ]) {
      const res = await ask().buffer(true);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = res.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as OnboardingSummary);
      expect(lines.map((r) => r.wabaId).sort()).toEqual(rows.map((r) => r.wabaId).sort());
      expect(lines.find((r) => r.wabaId === parked.expiredA.id)).toMatchObject({ status: 'NEEDS_ATTENTION', reasonKind: 'expired_token', statusReason: expect.any(String) });
    }
    // JSON stays the default, for */* too.
    expect((await list({ businessId }).set('Accept', '*/*')).headers['content-type']).toMatch(/^application\/json/);
    // The export needs the API key like every /v1 route.
    expect((await request(h.url).get('/v1/onboardings').query({ format: 'ndjson' })).status).toBe(401);
  });

  test('the export reads every page of visibility, in turn', async () => {
    const businessId = parked.business.id;
    await listed({ businessId }, 4);
    const calls: number[] = [];
    const rows: OnboardingSummary[] = [];
    const within = <T>(call: () => Promise<T>) => (calls.push(calls.length), call());
    await exportOnboardings(h.stack.client, h.stack.config.temporal.namespace, { businessId }, within, async (row) => void rows.push(row), 3);
    expect(rows).toHaveLength(4);
    expect(calls).toHaveLength(2); // pages of 3: 3 rows, then 1
  });
});

describe('bulk recheck', () => {
  test("POST /v1/rechecks with a businessId rechecks all its parked WABAs: 202 with the count and a Location to follow it; the fixed ones leave NEEDS_ATTENTION", async () => {
    const { business, expiredA, expiredB, forbidden, waiting } = parked;
    await listed({ businessId: business.id, status: 'NEEDS_ATTENTION' }, 3);
    const other = world().createWaba({ autoSign: false });
    world().injectFault({ endpoint: 'waba_status', wabaId: other.id, kind: 'token_expired', times: Infinity });
    expect((await start({ wabaId: other.id, businessId: other.ownerBusinessId, path: 'manual', options: FAST })).status).toBe(201);
    await h.stack.waitForStatus(other.id, 'NEEDS_ATTENTION');
    // The business's token is fixed: Meta answers again (the other business's still fails).
    world().clearFaults();
    world().injectFault({ endpoint: 'waba_status', wabaId: other.id, kind: 'token_expired', times: Infinity });

    const res = await h.http().post('/v1/rechecks').set(h.auth).send({ businessId: business.id });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: `mm-recheck:${business.id}:all`, businessId: business.id, status: 'RUNNING', matched: 3 });
    expect(res.headers.location).toBe(`/v1/rechecks/${res.body.id}`);

    const done = await eventually(async () => {
      const r = await h.http().get(res.headers.location).set(h.auth);
      return r.status === 200 && r.body.status === 'COMPLETED' ? r.body : undefined;
    }, 60_000, 'the bulk recheck to complete');
    expect(done).toMatchObject({ matched: 3, listed: 3, asked: 3, refused: 0, skipped: 0, failed: 0, completedAt: expect.any(String) });
    // Paced: three rechecks at 10 a second are at least two gaps of 100 ms apart.
    expect(Date.parse(done.completedAt) - Date.parse(done.startedAt)).toBeGreaterThanOrEqual(200);
    for (const w of [expiredA, expiredB, forbidden]) await h.stack.waitForStatus(w.id, 'AWAITING_TERMS');
    expect((await h.stack.state(waiting.id)).status).toBe('AWAITING_TERMS');
    expect((await h.stack.state(other.id)).status).toBe('NEEDS_ATTENTION');
  });

  test('by reasonKind: a WABA whose daily read budget is spent refuses its recheck, counted as refused, and stays parked', async () => {
    const business = world().createBusiness();
    const fresh = world().createWaba({ autoSign: false, ownerBusinessId: business.id });
    const spent = world().createWaba({ autoSign: false, ownerBusinessId: business.id });
    world().injectFault({ endpoint: 'waba_status', wabaId: fresh.id, kind: 'permission', times: 1 });
    expect((await start({ wabaId: fresh.id, businessId: business.id, path: 'manual', options: FAST })).status).toBe(201);
    await h.stack.waitForStatus(fresh.id, 'NEEDS_ATTENTION');
    // A run handed over parked, with its 48 reads of the day already made.
    const input: OnboardingInput = { wabaId: spent.id, businessId: business.id, path: 'manual', options: FAST };
    const at = new Date().toISOString();
    const reason = `Graph API: GET /v24.0/${spent.id} failed: (#200) Requires whatsapp_business_management permission (HTTP 403, code 200)`;
    const handedOver: OnboardingRunInput = {
      ...input,
      carriedOver: {
        phase: 'attention',
        state: { ...input, status: 'NEEDS_ATTENTION', statusReason: reason, history: [{ status: 'CHECKING_ELIGIBILITY', at }, { status: 'NEEDS_ATTENTION', at, reason }] },
        process: { expiresAt: Date.now() + 3_600_000, pendingCallbacks: [], recentStatusReads: Array(STATUS_READS_PER_DAY).fill(Date.now()), templates: [] },
        inbox: newInbox(input),
      },
    };
    const options = onboardingStartOptions(input, h.stack.config);
    await h.stack.client.workflow.start('onboarding', {
      ...options,
      args: [handedOver],
      // As the run it continues from left them (continue-as-new carries search attributes over).
      typedSearchAttributes: [
        ...options.typedSearchAttributes.filter(({ key }) => key.name !== OnboardingStatusKey.name),
        { key: OnboardingStatusKey, value: 'NEEDS_ATTENTION' },
        { key: OnboardingReasonKindKey, value: 'missing_permission' },
      ],
    });
    await listed({ businessId: business.id, reasonKind: 'missing_permission' }, 2);

    const res = await h.http().post('/v1/rechecks').set(h.auth).send({ businessId: business.id, reasonKind: 'missing_permission' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: `mm-recheck:${business.id}:missing_permission`, reasonKind: 'missing_permission', matched: 2 });
    const done = await eventually(async () => {
      const r = await h.http().get(`/v1/rechecks/${res.body.id}`).set(h.auth);
      return r.body.status === 'COMPLETED' ? r.body : undefined;
    }, 60_000, 'the bulk recheck to complete');
    expect(done).toMatchObject({ listed: 2, asked: 1, refused: 1, failed: 0 });
    await h.stack.waitForStatus(fresh.id, 'AWAITING_TERMS');
    expect((await h.stack.state(spent.id)).status).toBe('NEEDS_ATTENTION');
  });

  test('bad asks are 400 naming the field; an unknown id is 404; no key is 401', async () => {
    for (const [body, field] of [
      [{}, 'businessId'],
      [{ businessId: 'abc' }, 'businessId'],
      [{ reasonKind: 'lost_keys' }, 'reasonKind'],
      [{ businessId: '123', color: 'red' }, 'color'],
    ] as const) {
      const res = await h.http().post('/v1/rechecks').set(h.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: field })]);
    }
    const badId = await h.http().get('/v1/rechecks/mm-recheck:x:y').set(h.auth);
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([expect.objectContaining({ in: 'params', path: 'id' })]);
    expect((await h.http().get('/v1/rechecks/mm-recheck:999999999999:other').set(h.auth)).status).toBe(404);
    expect((await request(h.url).post('/v1/rechecks').send({ businessId: '123' })).status).toBe(401);
  });
});
