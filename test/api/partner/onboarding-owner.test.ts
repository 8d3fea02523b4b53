/**
 * An intent onboarding's business is the one Meta emails: `POST /v1/onboardings` refuses a
 * `businessId` that is not the WABA's owner on Meta (owner_business_info), before anything starts.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { onboardingWorkflowId } from '../../../workflows/types';
import { startAppHarness, type AppHarness } from '../../harness/app-harness';
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

test("an intent onboarding naming a business that does not own the WABA is 400 naming businessId, and Meta emails nobody", async () => {
  const waba = world().createWaba({ autoSign: false });
  const stranger = world().createBusiness();
  const res = await start({ wabaId: waba.id, businessId: stranger.id, path: 'intent', options: WEBHOOK_ONLY });
  expect(res.status).toBe(400);
  expect(res.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: 'businessId' })]);
  expect(res.body.error.message).toContain(waba.ownerBusinessId);
  // Read from Meta (an endpoint of its own in the sandbox, beside the onboarding's status reads).
  expect(world().findCalls({ endpoint: 'waba_owner', wabaId: waba.id })).toHaveLength(1);
  await expect(h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect(world().findCalls({ endpoint: 'intent' }).filter((c) => c.businessId === stranger.id)).toEqual([]);

  // On every path.
  const manual = await start({ wabaId: waba.id, businessId: stranger.id, path: 'manual', options: WEBHOOK_ONLY });
  expect(manual.status).toBe(400);
  expect(manual.body.error.details[0].path).toBe('businessId');

  // The owner Meta names is accepted.
  const ok = await start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'intent', options: WEBHOOK_ONLY });
  expect(ok.status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  expect(world().intentRequestCount(waba.ownerBusinessId)).toBe(1);
});
