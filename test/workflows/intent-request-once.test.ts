/**
 * The Intent request emails a business's admins, so it reaches Meta once per business under any crash
 * timing: a POST that landed while its attempt died (timed out, worker killed) is never posted again
 * by the retry. The sandbox counts every POST that reaches it.
 */
import { getIntentStateQuery } from '../../workflows/messages';
import { businessIntentWorkflowId } from '../../workflows/types';
import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { waitUntil } from '../harness/wait';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const world = () => stack.sandbox.world;
const intentPosts = (businessId: string) => world().findCalls({ endpoint: 'intent', businessId }).length;
const intentState = (businessId: string) => stack.client.workflow.getHandle(businessIntentWorkflowId(businessId)).query(getIntentStateQuery);

test('an Intent request that reached Meta after its attempt timed out is not posted again by the retry', async () => {
  const business = world().createBusiness();
  const waba = world().createWaba({ ownerBusinessId: business.id, autoSign: false });
  // Meta takes the POST but answers after the activity's 30 s start-to-close timeout (and the client's own).
  world().injectFault({ endpoint: 'intent', businessId: business.id, kind: 'latency', latencyMs: 31_000 });
  await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
  await waitUntil(() => intentPosts(business.id) === 1, 20_000, 'the first Intent POST');
  // The retry comes 2 s after the timeout; its read is held until Meta has recorded the first POST.
  world().injectFault({ endpoint: 'business_status', businessId: business.id, kind: 'latency', latencyMs: 4_000 });

  await waitUntil(async () => (await intentState(business.id)).requested, 60_000, 'the request to stand');
  await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  expect(world().business(business.id).onboarding.status).toBe('REQUEST_SENT');
  expect(intentPosts(business.id)).toBe(1);
  expect(world().intentRequestCount(business.id)).toBe(1);
}, 90_000);
