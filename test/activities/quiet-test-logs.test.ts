/**
 * `npm test` stays readable: the activity failures tests provoke on purpose (an injected Graph fault
 * parking an onboarding) print nothing, while any other warning of the workers still prints in full.
 * Real dev server, workers and sandbox; the workers' log output (stderr) is captured.
 */
import { Runtime } from '@temporalio/worker';
import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';

let stack: Stack;
const written: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  stack = await startStack();
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk));
    return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
}, 120_000);

afterAll(async () => {
  process.stderr.write = realWrite;
  await stack?.stop();
});

test("an injected Graph fault's activity failures print nothing; another warning prints in full", async () => {
  const world = stack.sandbox.world;
  const waba = world.createWaba({ autoSign: false });
  world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'token_expired', times: Infinity });
  await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
  expect(parked.statusReason).toMatch(/code 190/);

  Runtime.instance().logger.warn('an unexpected warning', { wabaId: waba.id });
  const output = written.join('');
  expect(output).not.toMatch(/Activity failed/);
  expect(output).not.toMatch(/GraphNeedsAttention/);
  expect(output).toMatch(/\[WARN\] an unexpected warning/);
});
