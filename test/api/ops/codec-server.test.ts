/**
 * The operators' codec endpoint: the Embedded Signup code sealed in real workflow history comes back
 * opened for a CODEC_KEYS key, and stays ciphertext for everyone else (partner keys included).
 */
import { onboardingWorkflowId } from '../../../workflows/types';
import { startAppHarness, type AppHarness } from '../../harness/app-harness';
import { TEST_SECRETS, WEBHOOK_ONLY } from '../../harness/stack';

const CODEC_KEY = 'operator-codec-key';
const UI_ORIGIN = 'http://127.0.0.1:8233';
let h: AppHarness;

beforeAll(async () => {
  h = await startAppHarness({ env: { CODEC_KEYS: CODEC_KEY, CODEC_CORS_ORIGINS: UI_ORIGIN } });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

/** The payloads of every event of the run, as the Web UI sends them to a codec server. */
async function historyPayloads(wabaId: string) {
  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  const payloads: Array<{ metadata?: Record<string, string>; data?: string }> = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.metadata && o.data instanceof Uint8Array) {
      payloads.push({
        metadata: Object.fromEntries(Object.entries(o.metadata as Record<string, Uint8Array>).map(([k, b]) => [k, Buffer.from(b).toString('base64')])),
        data: Buffer.from(o.data).toString('base64'),
      });
      return;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(history.events);
  return payloads;
}
const text = (payloads: Array<{ data?: string }>) => payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString()).join('\n');

test('an operator with a codec key sees the sealed signup code opened; others get 401 and the ciphertext stays', async () => {
  const world = h.stack.sandbox.world;
  const waba = world.createWaba({ autoSign: false });
  const start = await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: WEBHOOK_ONLY });
  expect(start.status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');
  const code = world.issueSignupCode(waba.id);
  expect((await h.http().post(`/v1/onboardings/${waba.id}/embedded-signup`).set(h.auth).send({ code })).status).toBe(200);

  const payloads = await historyPayloads(waba.id);
  expect(text(payloads)).toContain('sealed:v1:');
  expect(text(payloads)).not.toContain(code);

  const decoded = await h.http().post('/codec/decode').set('Authorization', `Bearer ${CODEC_KEY}`).set('X-Namespace', 'default').send({ payloads });
  expect(decoded.status).toBe(200);
  expect(decoded.body.payloads).toHaveLength(payloads.length);
  expect(text(decoded.body.payloads)).toContain(code);
  expect(h.logs.text()).toContain('codec opened sealed values');
  expect(h.logs.text()).not.toContain(code);

  for (const auth of [undefined, `Bearer ${TEST_SECRETS.apiKey}`, 'Bearer wrong']) {
    const req = h.http().post('/codec/decode').send({ payloads });
    const res = await (auth ? req.set('Authorization', auth) : req);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(JSON.stringify(res.body)).not.toContain(code);
  }
});

test('payloads that are not JSON, or hold nothing sealed, pass through unchanged', async () => {
  const payloads = [
    { metadata: { encoding: Buffer.from('binary/plain').toString('base64') }, data: Buffer.from('sealed:v1:xyz').toString('base64') },
    { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"a":1}').toString('base64') },
    { metadata: { encoding: Buffer.from('binary/null').toString('base64') } },
  ];
  const res = await h.http().post('/codec/decode').set('Authorization', `Bearer ${CODEC_KEY}`).send({ payloads });
  expect(res.status).toBe(200);
  expect(res.body.payloads).toEqual(payloads);
});

test('a malformed body is a 400 naming the field', async () => {
  const res = await h.http().post('/codec/decode').set('Authorization', `Bearer ${CODEC_KEY}`).send({ payload: [] });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['payloads', 'payload']));
});

test('the Web UI origin gets CORS preflight answers; other origins do not', async () => {
  const ok = await h.http().options('/codec/decode').set('Origin', UI_ORIGIN).set('Access-Control-Request-Method', 'POST');
  expect(ok.status).toBe(204);
  expect(ok.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  expect(ok.headers['access-control-allow-headers']).toMatch(/Authorization/);
  const other = await h.http().options('/codec/decode').set('Origin', 'http://evil.example').set('Access-Control-Request-Method', 'POST');
  expect(other.headers['access-control-allow-origin']).toBeUndefined();
});
