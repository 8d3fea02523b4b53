import { ServiceError, type Client, type WorkflowHandle } from '@temporalio/client';
import request from 'supertest';
import { closeApp, createApp } from '../../../api/app';
import { onboardingWorkflowId, type OnboardingState } from '../../../workflows/types';
import { eventually, FAST, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { OpenApiChecker } from '../../harness/openapi-check';
import { WEBHOOK_ONLY } from '../../harness/stack';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const start = (body: object) => h.http().post('/v1/onboardings').set(h.auth).send(body);

/** A manual onboarding started through the API and waiting for its terms (they are not signed by themselves). */
async function manualAwaitingTerms() {
  const waba = world().createWaba({ autoSign: false });
  await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  return waba;
}

describe('authentication', () => {
  test('/v1 needs a known bearer key; the key is never logged', async () => {
    const none = await h.http().get('/v1/onboardings/123');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });

    const wrong = await h.http().get('/v1/onboardings/123').set('Authorization', 'Bearer not-a-key-we-issued');
    expect(wrong.status).toBe(401);
    expect(h.logs.text()).not.toContain('not-a-key-we-issued');

    const right = await h.http().get('/v1/onboardings/123').set(h.auth);
    expect(right.status).toBe(404);
  });

  test('health, metrics and the OpenAPI document need no key', async () => {
    expect((await h.http().get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await h.http().get('/readyz')).status).toBe(200);
    expect((await h.http().get('/metrics')).status).toBe(200);
    expect((await h.http().get('/openapi.json')).status).toBe(200);
  });
});

describe('validation', () => {
  test('a bad body is refused with 400 naming every failing field', async () => {
    const res = await start({ wabaId: 'abc', path: 'fax', options: { templateSyncGraceSeconds: -1, typo: true } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    const fields = (res.body.error.details as Array<{ in: string; path: string }>).map((d) => `${d.in}.${d.path}`).sort();
    expect(fields).toEqual(['body.businessId', 'body.options.templateSyncGraceSeconds', 'body.options.typo', 'body.path', 'body.wabaId']);
  });

  test('bad path parameters and query strings are refused the same way', async () => {
    const param = await h.http().get('/v1/onboardings/not-digits').set(h.auth);
    expect(param.status).toBe(400);
    expect(param.body.error.details).toEqual([{ in: 'params', path: 'wabaId', message: expect.any(String) }]);

    const query = await h.http().get("/v1/onboardings?status=READY'%20OR%201=1&pageSize=9999").set(h.auth);
    expect(query.status).toBe(400);
    expect(query.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['pageSize', 'status']);
  });

  test('a body that is not JSON gets the usual error body, never an HTML page', async () => {
    const res = await h.http().post('/v1/onboardings').set(h.auth).set('Content-Type', 'application/json').send('{"wabaId": "1", oops}');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: { code: 'invalid_request', message: 'the request body is not valid JSON' } });
  });

  test('a body over 64 kB is refused with 413', async () => {
    const res = await start({ wabaId: '1', businessId: '2', path: 'manual', pad: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await h.http().get('/nothing/here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('onboardings', () => {
  test('starting is idempotent: 201, then 200 with the running one, and one workflow', async () => {
    const waba = world().createWaba({ autoSign: false });
    const body = { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST };

    const first = await start(body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual' });

    const second = await start(body);
    expect(second.status).toBe(200);
    expect(second.body.wabaId).toBe(waba.id);

    const runs = await eventually(async () => {
      const found = [];
      for await (const run of h.stack.client.workflow.list({ query: `WorkflowId = '${onboardingWorkflowId(waba.id)}'` })) found.push(run);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toHaveLength(1);
  });

  test('GET returns the state, and 404 for a WABA nobody is onboarding', async () => {
    const waba = await manualAwaitingTerms();

    const res = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth);
    expect(res.status).toBe(200);
    const state = res.body as OnboardingState;
    expect(state.status).toBe('AWAITING_TERMS');
    expect(state.eligibility).toBe('ELIGIBLE');
    expect(state.history.map((e) => e.status)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS']);

    const missing = await h.http().get('/v1/onboardings/999999999999999').set(h.auth);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  test('lists by business and status through visibility, page by page', async () => {
    const business = world().createBusiness();
    const wabas = [1, 2, 3].map(() => world().createWaba({ autoSign: false, ownerBusinessId: business.id }));
    for (const w of wabas) await start({ wabaId: w.id, businessId: business.id, path: 'manual', options: FAST });
    for (const w of wabas) await h.stack.waitForStatus(w.id, 'AWAITING_TERMS');

    // Visibility is eventually consistent: poll (bounded) until the upserted status is indexed.
    const listed = await eventually(async () => {
      const res = await h.http().get(`/v1/onboardings?businessId=${business.id}&status=AWAITING_TERMS`).set(h.auth);
      return res.status === 200 && res.body.onboardings.length === 3 ? res.body : undefined;
    });
    expect(listed.onboardings.map((o: { wabaId: string }) => o.wabaId).sort()).toEqual(wabas.map((w) => w.id).sort());
    expect(listed.onboardings[0]).toMatchObject({ businessId: business.id, path: 'manual', status: 'AWAITING_TERMS', workflowStatus: 'RUNNING' });
    expect(listed.onboardings[0].startTime).toMatch(/^\d{4}-\d\d-\d\dT/);

    const none = await h.http().get(`/v1/onboardings?businessId=${business.id}&status=READY`).set(h.auth);
    expect(none.body.onboardings).toEqual([]);

    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await h
        .http()
        .get('/v1/onboardings')
        .query({ businessId: business.id, pageSize: 2, ...(token ? { pageToken: token } : {}) })
        .set(h.auth);
      expect(res.status).toBe(200);
      expect(res.body.onboardings.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.onboardings.map((o: { wabaId: string }) => o.wabaId));
      token = res.body.nextPageToken;
      if (!token) break;
    }
    expect(seen.sort()).toEqual(wabas.map((w) => w.id).sort());
  });

  test('a forged page token, or one issued for other filters, is a 400 naming pageToken, at once', async () => {
    const business = world().createBusiness();
    for (const w of [1, 2].map(() => world().createWaba({ autoSign: false, ownerBusinessId: business.id }))) {
      await start({ wabaId: w.id, businessId: business.id, path: 'manual', options: FAST });
    }
    const firstPage = await eventually(async () => {
      const res = await h.http().get('/v1/onboardings').query({ businessId: business.id, pageSize: 1 }).set(h.auth);
      return res.body.nextPageToken ? res.body : undefined;
    });

    for (const query of [{ pageToken: 'AAAA' }, { pageToken: 'A'.repeat(200) }, { businessId: '1', pageToken: firstPage.nextPageToken }]) {
      const startedAt = Date.now();
      const res = await h.http().get('/v1/onboardings').query(query).set(h.auth);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details).toEqual([{ in: 'query', path: 'pageToken', message: expect.any(String) }]);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    }
    const secondPage = await h.http().get('/v1/onboardings').query({ businessId: business.id, pageSize: 1, pageToken: firstPage.nextPageToken }).set(h.auth);
    expect(secondPage.status).toBe(200);
  });

  test('recheck reads Meta now: a WABA found ONBOARDED completes as "poll"', async () => {
    const waba = world().createWaba({ autoSign: false });
    await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    world().setStatus(waba.id, 'ONBOARDED');

    const res = await h.http().post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
    expect(res.status).toBe(200);
    expect(res.body.wabaId).toBe(waba.id);
    const ready = await h.stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('poll');
  });

  describe('an update the server lost to a failed workflow task', () => {
    // What Temporal answers when the workflow task carrying the update failed (seen under load).
    const lostToTaskFailure = () =>
      new ServiceError('Workflow Update failed', {
        cause: Object.assign(new Error('9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.'), { code: 9 }),
      });

    /** The API on a client whose next `losses` updates are lost that way; records each update id sent. */
    async function appLosingUpdates(losses: number) {
      const sent: string[] = [];
      const client = h.stack.client;
      const workflow = Object.create(client.workflow, {
        getHandle: {
          value: (workflowId: string) => {
            const handle = client.workflow.getHandle(workflowId);
            const executeUpdate = async (def: Parameters<WorkflowHandle['executeUpdate']>[0], options?: { updateId?: string }) => {
              sent.push(String(options?.updateId));
              if (losses-- > 0) throw lostToTaskFailure();
              return handle.executeUpdate(def, options as never);
            };
            // A recheck starts its update and waits for the answer apart (api/partner/recheck-answer.ts).
            const startUpdate = async (def: Parameters<WorkflowHandle['startUpdate']>[0], options: { updateId?: string }) => {
              sent.push(String(options?.updateId));
              if (losses-- > 0) throw lostToTaskFailure();
              return handle.startUpdate(def, options as never);
            };
            return { ...handle, executeUpdate, startUpdate };
          },
        },
      });
      const app = createApp({ config: h.stack.config, client: Object.create(client, { workflow: { value: workflow } }) as Client, log: h.logs });
      return { app, sent };
    }

    test('is sent again under the same update id, and the cancel answers 200', async () => {
      const waba = await manualAwaitingTerms();
      const { app, sent } = await appLosingUpdates(2);
      try {
        const res = await request(app).post(`/v1/onboardings/${waba.id}/cancel`).set(h.auth).send({ reason: 'lost twice' });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe('CANCELLED');
        // Two lost on purpose; under load the server may lose a real one too, and it is sent again.
        expect(sent.length).toBeGreaterThanOrEqual(3);
        expect(sent.length).toBeLessThanOrEqual(5);
        expect(new Set(sent).size).toBe(1);
        expect(sent[0]).toMatch(/^[0-9a-f-]{36}$/);
      } finally {
        await closeApp(app);
      }
    });

    test('lost every time: five tries, then a 500 with the JSON error body', async () => {
      const waba = await manualAwaitingTerms();
      const { app, sent } = await appLosingUpdates(Infinity);
      try {
        const res = await request(app).post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
        expect(sent).toHaveLength(5);
        expect((await h.stack.state(waba.id)).status).toBe('AWAITING_TERMS');
      } finally {
        await closeApp(app);
      }
    });
  });

  test('cancel ends the onboarding as CANCELLED; a second cancel or a recheck is a 409', async () => {
    const waba = await manualAwaitingTerms();

    const res = await h.http().post(`/v1/onboardings/${waba.id}/cancel`).set(h.auth).send({ reason: 'customer changed their mind' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('CANCELLED');
    expect(res.body.statusReason).toBe('customer changed their mind');

    const again = await h.http().post(`/v1/onboardings/${waba.id}/cancel`).set(h.auth);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    const recheck = await h.http().post(`/v1/onboardings/${waba.id}/recheck`).set(h.auth);
    expect(recheck.status).toBe(409);

    // A closed run still answers its state.
    const get = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth);
    expect(get.body.status).toBe('CANCELLED');

    // ... and a new run may follow it.
    const restart = await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    expect(restart.status).toBe(201);
  });

  const postJson = (path: string, body?: object) => h.http().post(path).set(h.auth).send(body ?? {});

  test('a recheck while the token stays expired answers at once, stays in NEEDS_ATTENTION and reads Graph once', async () => {
    const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
    world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'token_expired', times: Infinity });
    await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    const before = world().countCalls({ endpoint: 'waba_status', wabaId: waba.id });

    const startedAt = Date.now();
    const res = await postJson(`/v1/onboardings/${waba.id}/recheck`);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('NEEDS_ATTENTION');
    expect(res.body.statusReason).toMatch(/access token/i);

    // Left alone, nothing reads Graph for this WABA again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(world().countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(before + 1);
    expect((await h.stack.state(waba.id)).status).toBe('NEEDS_ATTENTION');
  }, 60_000);

  // permission: the recheck's read fails at once; transient: the cancel lands while it still retries.
  test.each(['permission', 'transient'] as const)('cancel answers 200 while a recheck of a persisting %s fault is under way', async (kind) => {
    const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
    world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission', times: 1 });
    world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind, times: Infinity });
    await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');

    const recheck = postJson(`/v1/onboardings/${waba.id}/recheck`).then((r) => r);
    await new Promise((r) => setTimeout(r, 1_000));
    const cancel = await postJson(`/v1/onboardings/${waba.id}/cancel`, { reason: 'operator gave up' });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('CANCELLED');
    expect((await recheck).status).toBeLessThan(500);
    const result = await h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).result();
    expect(result.status).toBe('CANCELLED');
  }, 60_000);

  test('updates to a WABA nobody is onboarding are 404', async () => {
    for (const action of ['recheck', 'cancel']) {
      const res = await h.http().post(`/v1/onboardings/888888888888888/${action}`).set(h.auth);
      expect(res.status).toBe(404);
    }
  });
});

describe('operations', () => {
  test('/openapi.json describes every /v1 route with the schemas the API validates with', async () => {
    const doc = (await h.http().get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/metrics',
      '/signup/{token}',
      '/signup/{token}/complete',
      '/v1/discoveries',
      '/v1/discoveries/{id}',
      '/v1/embedded-signup',
      '/v1/onboardings',
      '/v1/onboardings/summary',
      '/v1/onboardings/{wabaId}',
      '/v1/onboardings/{wabaId}/cancel',
      '/v1/onboardings/{wabaId}/embedded-signup',
      '/v1/onboardings/{wabaId}/insights',
      '/v1/onboardings/{wabaId}/messages',
      '/v1/onboardings/{wabaId}/recheck',
      '/v1/onboardings/{wabaId}/settings',
      '/v1/onboardings/{wabaId}/templates',
      '/v1/onboardings/{wabaId}/templates/{name}',
      '/v1/rechecks',
      '/v1/rechecks/{id}',
      '/v1/signup-links',
    ]);
    const startSchema = doc.paths['/v1/onboardings'].post.requestBody.content['application/json'].schema;
    expect(startSchema.required.sort()).toEqual(['businessId', 'path', 'wabaId']);
    expect(startSchema.properties.path.enum).toEqual(['intent', 'embedded_signup', 'manual']);
    const listParams = doc.paths['/v1/onboardings'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParams).toEqual(['status', 'businessId', 'path', 'reasonKind', 'olderThan', 'sort', 'format', 'pageSize', 'pageToken']);
    expect(Object.keys(doc.paths['/v1/onboardings'].get.responses['200'].content)).toEqual(['application/json', 'application/x-ndjson']);
    expect(doc.paths['/v1/rechecks'].post.requestBody.content['application/json'].schema.properties.reasonKind.enum).toContain('expired_token');
    expect(doc.components.schemas.OnboardingState.properties.status.enum).toContain('NEEDS_ATTENTION');
    expect(Object.keys(doc.paths['/v1/onboardings'].post.responses)).toEqual(expect.arrayContaining(['201', '200', '400', '401', '413', '503']));
  });

  test('a READY state, with everything the service adds to it, matches /openapi.json', async () => {
    const waba = world().createWaba({ autoSign: false });
    await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'intent', options: { ...FAST, messageActivitySharing: true } });
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await world().signTerms(waba.id);
    await h.stack.waitForStatus(waba.id, 'READY');
    // h.http() checks the answer against the served document.
    const res = await h.http().get(`/v1/onboardings/${waba.id}`).set(h.auth);
    expect(res.body).toMatchObject({ status: 'READY', intentRequestId: expect.any(String), messageActivitySharing: true });
  });

  test('the harness check catches a document that drifts from the answers', async () => {
    const waba = world().createWaba({ autoSign: false });
    await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'intent', options: FAST });
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await world().signTerms(waba.id);
    const ready = await h.stack.waitForStatus(waba.id, 'READY');
    const answer = (status: number, body: unknown) => ({
      method: 'GET',
      path: `/v1/onboardings/${waba.id}`,
      status,
      contentType: 'application/json; charset=utf-8',
      body,
    });
    const served = (await h.http().get('/openapi.json')).body;
    expect(h.openApi.problems(answer(200, ready))).toEqual([]);

    // The schema the document had before: closed, and without intentRequestId.
    const closed = structuredClone(served);
    delete closed.components.schemas.OnboardingState.properties.intentRequestId;
    closed.components.schemas.OnboardingState.additionalProperties = false;
    expect(new OpenApiChecker(closed).problems(answer(200, ready)).join()).toMatch(/additionalProperty.*intentRequestId/);

    // A status the route answers but the document leaves out.
    const missing404 = structuredClone(served);
    delete missing404.paths['/v1/onboardings/{wabaId}'].get.responses['404'];
    const notFound = await h.http().get('/v1/onboardings/999999999999998').set(h.auth);
    expect(new OpenApiChecker(missing404).problems(answer(notFound.status, notFound.body)).join()).toMatch(/status 404 is not documented/);

    // An answer of the wrong shape.
    expect(h.openApi.problems(answer(404, { message: 'no' })).join()).toMatch(/must have required property 'error'/);
  });

  test('/metrics counts API requests by route pattern and status', async () => {
    await h.http().get('/v1/onboardings/777').set(h.auth);
    const text = (await h.http().get('/metrics')).text;
    expect(text).toMatch(/mm_http_requests_total\{method="GET",route="\/v1\/onboardings\/:wabaId",status="404"\} [1-9]/);
    expect(text).toMatch(/mm_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/v1\/onboardings\/:wabaId"\}/);
    expect(text).toMatch(/mm_temporal_call_duration_seconds_count\{operation="query",result="not_found"\} [1-9]/);
  });
});
