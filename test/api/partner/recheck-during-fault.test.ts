import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';

/**
 * A recheck while the onboarding's own status read is retrying a transient Graph fault (issue 24,
 * item 9): the recheck is answered by the read after that one, minutes away, so the API answers 202
 * with the state instead of waiting out the update deadline for a 504. The update deadline is
 * shortened to 8 s here (the recheck's answer comes 5 s before it, 25 s in production).
 */

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ timeouts: { updateMs: 8_000 } });
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;

test('a recheck during a transient Graph fault answers 202 with the state and the recheck pending, never a gateway timeout; the recheck is answered once Graph recovers', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'transient', times: Infinity });
  await h
    .http()
    .post('/v1/onboardings')
    .set(h.auth)
    .send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { statusPollIntervalSeconds: 3600 } })
    .expect(201);
  // The onboarding's first read is retrying the fault (attempts 2 s, 4 s, 8 s ... apart).
  await eventually(async () => (world().countCalls({ endpoint: 'waba_status', wabaId: waba.id }) >= 2 ? true : undefined), 15_000, 'a retried status read');

  const recheck = await h.http().post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
  expect(recheck.status).toBe(202);
  expect(recheck.body).toMatchObject({ wabaId: waba.id, status: 'CHECKING_ELIGIBILITY', recheck: { status: 'pending', reason: expect.stringMatching(/retrying a Graph error/) } });

  // Graph recovers: the read under way succeeds, and the recheck's own read follows it.
  world().clearFaults();
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS', 60_000);
});

test("a recheck while Meta throttles the WABA's status reads for minutes keeps it READY: 202 with the recheck pending, answered once the throttle is over", async () => {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED', autoSign: false });
  await h
    .http()
    .post('/v1/onboardings')
    .set(h.auth)
    .send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 } })
    .expect(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  const readsBefore = world().countCalls({ endpoint: 'waba_status', wabaId: waba.id });

  // Meta asks for 30 s, longer than a recheck's own bounded read (20 s) may wait.
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'throttle', regainAccessMinutes: 0.5 });
  const recheck = await h.http().post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
  expect(recheck.status).toBe(202);
  expect(recheck.body).toMatchObject({ wabaId: waba.id, status: 'READY', recheck: { status: 'pending', reason: expect.stringMatching(/throttling/) } });

  // The read waits the throttle out, then answers: READY all along, never parked.
  await eventually(async () => (world().countCalls({ endpoint: 'waba_status', wabaId: waba.id }) >= readsBefore + 2 ? true : undefined), 90_000, 'the read after the throttle');
  const after = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth).expect(200);
  expect(after.body.status).toBe('READY');
  expect(after.body.history.map((e: { status: string }) => e.status)).not.toContain('NEEDS_ATTENTION');
  // Throttle over, a recheck is answered at once again.
  const next = await h.http().post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
  expect(next.status).toBe(200);
  expect(next.body.status).toBe('READY');
}, 120_000);
