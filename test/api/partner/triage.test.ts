/**
 * Triage at scale: the list's rows say why and since when, NEEDS_ATTENTION is a work queue in one
 * call, the summary counts by status and reason kind, and a discovery says what became of the
 * onboardings it started — all from Temporal visibility, on the real dev server and the sandbox.
 */
import { temporal } from '@temporalio/proto';
import type { DiscoveryState } from '../../../workflows/discovery-types';
import { newInbox, type OnboardingRunInput } from '../../../workflows/onboarding-inbox';
import { onboardingStartOptions } from '../../../workflows/start-options';
import { onboardingWorkflowId, type OnboardingInput } from '../../../workflows/types';
import { OnboardingStatusKey, RetiredStatusReasonKey } from '../../../temporal/search-attributes';
import { STATUS_REASON_MEMO } from '../../../temporal/memo-fields';
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

/** One business with a READY WABA, one AWAITING_TERMS, and three parked for different reasons. */
async function businessToTriage() {
  const business = world().createBusiness();
  const waba = (opts: object = {}) => world().createWaba({ autoSign: false, ownerBusinessId: business.id, ...opts });
  const ready = waba();
  const waiting = waba();
  const expired = waba();
  const forbidden = waba();
  const noNumber = waba({ phoneNumbers: 0 });
  world().injectFault({ endpoint: 'waba_status', wabaId: expired.id, kind: 'token_expired', times: Infinity });
  world().injectFault({ endpoint: 'waba_status', wabaId: forbidden.id, kind: 'permission', times: Infinity });
  for (const w of [ready, waiting, expired, forbidden, noNumber]) {
    expect((await start({ wabaId: w.id, businessId: business.id, path: 'manual', options: FAST })).status).toBe(201);
  }
  await h.stack.waitForStatus(ready.id, 'AWAITING_TERMS');
  await world().signTerms(ready.id);
  await h.stack.waitForStatus(ready.id, 'READY');
  await h.stack.waitForStatus(waiting.id, 'AWAITING_TERMS');
  for (const w of [expired, forbidden, noNumber]) await h.stack.waitForStatus(w.id, 'NEEDS_ATTENTION');
  return { business, ready, waiting, expired, forbidden, noNumber };
}

let triage: Awaited<ReturnType<typeof businessToTriage>>;
beforeAll(async () => {
  triage = await businessToTriage();
}, 90_000);

test("/metrics counts the parked onboardings by reason kind (the dashboard's NEEDS_ATTENTION panel)", async () => {
  // The gauges count the whole namespace (the suite's shared dev server): this business's three are among them.
  const gauge = (text: string, kind: string) => Number(new RegExp(`^mm_onboardings_needs_attention\\{reason_kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  const kinds = ['expired_token', 'missing_permission', 'no_cloud_api_number'];
  // Visibility and the gauges' 5 s cache may lag the parks by a few seconds.
  const text = await eventually(async () => {
    const now = (await h.http().get('/metrics')).text;
    return kinds.every((kind) => gauge(now, kind) >= 1) ? now : undefined;
  }, 30_000, 'the reason-kind gauges');
  expect(Number(/^mm_onboardings\{status="NEEDS_ATTENTION"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(kinds.length);
});

type Row = { wabaId: string; status: string; statusReason?: string; statusSince?: string; readyAt?: string; reasonKind?: string };

async function listed(query: Record<string, string>, rows: number): Promise<Row[]> {
  return eventually(async () => {
    const res = await h.http().get('/v1/onboardings').query(query).set(h.auth);
    return res.status === 200 && res.body.onboardings.length === rows && res.body.onboardings.every((r: Row) => r.statusSince) ? res.body.onboardings : undefined;
  }, 20_000, `${rows} rows for ${JSON.stringify(query)}`);
}

test('?status=NEEDS_ATTENTION is a work queue in one call: each row says why, what kind of problem, and since when', async () => {
  const { business, expired, forbidden, noNumber } = triage;
  const queue = await listed({ businessId: business.id, status: 'NEEDS_ATTENTION' }, 3);
  const byWaba = new Map(queue.map((row) => [row.wabaId, row]));

  expect(byWaba.get(expired.id)).toMatchObject({ reasonKind: 'expired_token', statusReason: expect.stringMatching(/code 190/) });
  expect(byWaba.get(forbidden.id)).toMatchObject({ reasonKind: 'missing_permission', statusReason: expect.stringMatching(/code 200/) });
  expect(byWaba.get(noNumber.id)).toMatchObject({ reasonKind: 'no_cloud_api_number', statusReason: expect.stringMatching(/Cloud API/) });
  for (const row of queue) {
    // The row's reason is the onboarding's own, word for word, and its time the history's last entry.
    const state = (await h.http().get(`/v1/onboardings/${row.wabaId}`).set(h.auth)).body;
    expect(row.statusReason).toBe(state.statusReason);
    expect(row.statusSince).toBe(state.history.at(-1).at);
    expect(row.readyAt).toBeUndefined();
  }
});

test('a READY row carries readyAt, a waiting one its reason-free status and since when', async () => {
  const { business, ready, waiting } = triage;
  const [readyRow] = await listed({ businessId: business.id, status: 'READY' }, 1);
  const readyState = (await h.http().get(`/v1/onboardings/${ready.id}`).set(h.auth)).body;
  expect(readyRow).toMatchObject({ wabaId: ready.id, readyAt: readyState.readyAt, statusSince: readyState.history.at(-1).at });
  expect(readyRow.reasonKind).toBeUndefined();

  const [waitingRow] = await listed({ businessId: business.id, status: 'AWAITING_TERMS' }, 1);
  const waitingState = (await h.http().get(`/v1/onboardings/${waiting.id}`).set(h.auth)).body;
  expect(waitingRow).toMatchObject({ wabaId: waiting.id, statusSince: waitingState.history.at(-1).at });
  expect(waitingRow.readyAt).toBeUndefined();
});

/** What Meta may say, in any words: `:` and an unbalanced `'` are what PostgreSQL's `::tsvector` refused. */
const WORDY_MESSAGE = `Error validating access token: the user's session ended "early" — Sitzung für Müller abgelaufen; セッションの期限切れ`;

test("a reason in any words (colons, quotes ' and \", other scripts) is listed word for word, and no search attribute carries it", async () => {
  const business = world().createBusiness();
  const waba = world().createWaba({ autoSign: false, ownerBusinessId: business.id });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'token_expired', message: WORDY_MESSAGE, times: Infinity });
  expect((await start({ wabaId: waba.id, businessId: business.id, path: 'manual', options: FAST })).status).toBe(201);
  const state = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
  expect(state.statusReason).toContain(WORDY_MESSAGE);

  const [row] = await listed({ businessId: business.id, status: 'NEEDS_ATTENTION' }, 1);
  expect(row).toMatchObject({ wabaId: waba.id, statusReason: state.statusReason, reasonKind: 'expired_token' });
  // The reason is in the run's memo, which visibility returns and indexes nowhere; its search
  // attributes are bounded keywords and times only.
  const described = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).describe();
  expect(described.memo?.[STATUS_REASON_MEMO]).toBe(state.statusReason);
  expect(Object.keys(described.raw.workflowExecutionInfo?.searchAttributes?.indexedFields ?? {})).not.toContain(RetiredStatusReasonKey.name);
});

test("a run an older build handed over clears the retired Text attribute and lists its reason from the memo", async () => {
  // Older builds registered OnboardingStatusReason (Text) and wrote the reason there; their runs
  // continue as new onto this build with it among their search attributes and no reason in the memo.
  await h.stack.client.connection.operatorService
    .addSearchAttributes({
      namespace: h.stack.config.temporal.namespace,
      searchAttributes: { [RetiredStatusReasonKey.name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT },
    })
    .catch((err: Error) => {
      if (!/already (exists|registered)/i.test(err.message)) throw err;
    });
  const business = world().createBusiness();
  const waba = world().createWaba({ autoSign: false, ownerBusinessId: business.id });
  const input: OnboardingInput = { wabaId: waba.id, businessId: business.id, path: 'manual', options: FAST };
  const reason = `Graph API: GET /v24.0/${waba.id} failed: ${WORDY_MESSAGE} (HTTP 400, code 190, subcode 463)`;
  const at = new Date().toISOString();
  const handedOver: OnboardingRunInput = {
    ...input,
    carriedOver: {
      phase: 'attention',
      state: { ...input, status: 'NEEDS_ATTENTION', statusReason: reason, history: [{ status: 'CHECKING_ELIGIBILITY', at }, { status: 'NEEDS_ATTENTION', at, reason }] },
      process: { expiresAt: Date.now() + 3_600_000, pendingCallbacks: [], recentStatusReads: [], templates: [] },
      inbox: newInbox(input),
    },
  };
  const options = onboardingStartOptions(input, h.stack.config);
  const handle = await h.stack.client.workflow.start('onboarding', {
    ...options,
    args: [handedOver],
    typedSearchAttributes: [
      ...options.typedSearchAttributes.filter(({ key }) => key.name !== OnboardingStatusKey.name),
      { key: OnboardingStatusKey, value: 'NEEDS_ATTENTION' },
      { key: RetiredStatusReasonKey, value: reason },
    ],
  });

  const described = await eventually(async () => {
    const d = await handle.describe();
    return d.raw.workflowExecutionInfo?.searchAttributes?.indexedFields?.[RetiredStatusReasonKey.name] ? undefined : d;
  }, 20_000, 'the retired attribute to be cleared');
  expect(described.memo?.[STATUS_REASON_MEMO]).toBe(reason);
  // Once visibility has the cleared row, the list's reason can only come from the memo.
  await eventually(async () => {
    for await (const run of h.stack.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      if (run.searchAttributes[RetiredStatusReasonKey.name] === undefined && run.memo?.[STATUS_REASON_MEMO] === reason) return true;
    }
    return undefined;
  }, 20_000, 'visibility to show the cleared row');
  const [row] = await listed({ businessId: business.id, status: 'NEEDS_ATTENTION' }, 1);
  expect(row.statusReason).toBe(reason);
  expect((await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth)).body).toMatchObject({ status: 'NEEDS_ATTENTION', statusReason: reason });
});

test('GET /v1/onboardings/summary counts by status and NEEDS_ATTENTION by reason kind, from visibility', async () => {
  const { business } = triage;
  const summary = await eventually(async () => {
    const res = await h.http().get('/v1/onboardings/summary').query({ businessId: business.id }).set(h.auth);
    return res.status === 200 && res.body.byStatus.NEEDS_ATTENTION === 3 && res.body.byStatus.READY === 1 ? res.body : undefined;
  }, 20_000, 'the summary to count the parked onboardings');
  expect(summary).toMatchObject({
    businessId: business.id,
    total: 5,
    byStatus: { READY: 1, AWAITING_TERMS: 1, NEEDS_ATTENTION: 3, CHECKING_ELIGIBILITY: 0, CANCELLED: 0 },
    needsAttentionByKind: { expired_token: 1, missing_permission: 1, no_cloud_api_number: 1, restricted_account: 0, graph_unreachable: 0, other: 0 },
  });

  // Across every business: at least this one's.
  const all = (await h.http().get('/v1/onboardings/summary').set(h.auth)).body;
  expect(all.total).toBeGreaterThanOrEqual(5);
  expect(all.needsAttentionByKind.expired_token).toBeGreaterThanOrEqual(1);

  const bad = await h.http().get('/v1/onboardings/summary').query({ businessId: 'x' }).set(h.auth);
  expect(bad.status).toBe(400);
  expect(bad.body.error.details).toEqual([expect.objectContaining({ in: 'query', path: 'businessId' })]);
});

test("a discovery counts what became of the onboardings it started: READY, AWAITING_TERMS, NEEDS_ATTENTION, ended, in progress", async () => {
  const partner = world().createBusiness();
  const owner = world().createBusiness();
  const waba = (opts: object = {}) => world().createWaba({ autoSign: false, partnerBusinessId: partner.id, ownerBusinessId: owner.id, ...opts });
  const [toReady, toWait, toPark, toCancel] = [waba(), waba(), waba({ phoneNumbers: 0 }), waba()];

  const posted = await h.http().post('/v1/discoveries').set(h.auth).send({ businessId: partner.id, path: 'manual', options: FAST });
  expect(posted.status).toBe(202);
  for (const w of [toReady, toWait, toCancel]) await h.stack.waitForStatus(w.id, 'AWAITING_TERMS');
  await h.stack.waitForStatus(toPark.id, 'NEEDS_ATTENTION');
  await world().signTerms(toReady.id);
  await h.stack.waitForStatus(toReady.id, 'READY');
  expect((await h.http().post(`/v1/onboardings/${toCancel.id}/cancel`).set(h.auth).send({})).status).toBe(200);

  const expected = { ready: 1, awaitingTerms: 1, needsAttention: 1, ended: 1, inProgress: 0 };
  const settled = await eventually(async () => {
    const state = (await h.http().get(`/v1/discoveries/${posted.body.id}`).set(h.auth)).body as DiscoveryState & { onboardings: typeof expected };
    return state.status === 'COMPLETED' && JSON.stringify(state.onboardings) === JSON.stringify(expected) ? state : undefined;
  }, 20_000, 'the discovery to count its onboardings');
  expect(settled).toMatchObject({ found: 4, started: 4, onboardings: expected });
});
