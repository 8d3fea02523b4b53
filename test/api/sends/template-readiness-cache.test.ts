/**
 * The send gate's memory of template readiness (api/sends/template-readiness-cache.ts) and its batched
 * send records (api/sends/send-records.ts): a send reads its one template once and keeps it while the
 * run's stamp (run id, readiness version, status), checked by a describe, says nothing changed; what it
 * decides on is never older than twice the TTL; the due records of a WABA go in one update at a time.
 * The clock is Date.now, set by each test; reads, describes and updates are held open until released.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createMetrics } from '../../../api/ops/metrics';
import type { OnboardingClient, ReadinessStamp } from '../../../api/partner/onboarding-client';
import { TemplateReadiness } from '../../../api/sends/template-readiness-cache';
import type { TemplateRef, TemplateSendRequest, TemplateSendsRecorded } from '../../../workflows/messages';
import type { TemplateReadinessRead, TemplatesReadinessRead, TrackedTemplate } from '../../../workflows/types';
import { capturingLogger } from '../../harness/app-harness';

const TTL = 5_000;
let now = 1_000_000;
beforeEach(() => {
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => jest.restoreAllMocks());

const settled = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
/** A refresh waits 50 ms for the WABA's other due records (api/sends/send-records.ts); on a busy machine its timer fires late, so `until` is waited for (2 s at most). */
const lingered = async (until: () => boolean = () => true) => {
  await new Promise((r) => setTimeout(r, 80));
  await settled();
  for (let waited = 0; !until() && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
};

interface Held<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/** A run whose facts the test sets; its reads, describes and updates answer when the test says so (or at once). */
function fakeRun(opts: { holdReads?: boolean; holdDescribes?: boolean; holdUpdates?: boolean } = {}) {
  const run = {
    stamp: { runId: 'run-1', version: 0, status: 'READY' } as ReadinessStamp,
    templates: new Map<string, TrackedTemplate>(),
    messageActivitySharing: false,
    reads: [] as Array<TemplateRef>,
    /** The templates of each readiness query, in the order asked. */
    queries: [] as TemplateRef[][],
    heldReads: [] as Array<Held<TemplateReadinessRead> & { ref: TemplateRef }>,
    describes: 0,
    heldDescribes: [] as Array<Held<ReadinessStamp>>,
    updates: [] as TemplateSendRequest[][],
    heldUpdates: [] as Array<Held<TemplateSendsRecorded> & { sends: TemplateSendRequest[] }>,
    inFlightUpdates: 0,
    maxInFlightUpdates: 0,
  };
  const answer = (ref: TemplateRef): TemplateReadinessRead => {
    const template = run.templates.get(`${ref.name}/${ref.language}`);
    return {
      wabaId: '1',
      status: run.stamp.status!,
      readyAt: new Date(0).toISOString(),
      messageActivitySharing: run.messageActivitySharing,
      templateSyncGraceSeconds: 600,
      templateIdleSeconds: 604_800,
      runId: run.stamp.runId,
      version: run.stamp.version,
      ...(template ? { template: { ...template } } : {}),
    };
  };
  const record = (sends: TemplateSendRequest[]): TemplateSendsRecorded => {
    run.stamp = { ...run.stamp, version: run.stamp.version + 1 };
    const at = new Date(now).toISOString();
    return {
      runId: run.stamp.runId,
      version: run.stamp.version,
      results: sends.map(({ name, language, record }) => {
        const t = run.templates.get(`${name}/${language}`)!;
        t.lastSentAt = at;
        return { name, language, recorded: record, tracked: { ...t } };
      }),
    };
  };
  const readOne = (ref: TemplateRef) => {
    run.reads.push(ref);
    if (!opts.holdReads) return Promise.resolve(answer(ref));
    return new Promise<TemplateReadinessRead>((resolve, reject) => void run.heldReads.push({ resolve: () => resolve(answer(ref)), reject, ref }));
  };
  const onboardings = {
    templateReadiness: (_wabaId: string, ref: TemplateRef) => readOne(ref),
    // One query for the templates asked together; held, it answers when each of its templates is released.
    templatesReadiness: async (_wabaId: string, refs: TemplateRef[]): Promise<TemplatesReadinessRead> => {
      run.queries.push(refs);
      const reads = await Promise.all(refs.map(readOne));
      const { template: _, ...stamped } = reads[reads.length - 1];
      return { ...stamped, templates: reads.map((r) => r.template ?? null) };
    },
    readinessStamp: () => {
      run.describes++;
      if (!opts.holdDescribes) return Promise.resolve({ ...run.stamp });
      return new Promise<ReadinessStamp>((resolve, reject) => void run.heldDescribes.push({ resolve: () => resolve({ ...run.stamp }), reject }));
    },
    recordTemplateSends: async (_wabaId: string, sends: TemplateSendRequest[]) => {
      run.updates.push(sends);
      run.inFlightUpdates++;
      run.maxInFlightUpdates = Math.max(run.maxInFlightUpdates, run.inFlightUpdates);
      try {
        if (!opts.holdUpdates) return record(sends);
        return await new Promise<TemplateSendsRecorded>((resolve, reject) => void run.heldUpdates.push({ resolve: () => resolve(record(sends)), reject, sends }));
      } finally {
        run.inFlightUpdates--;
      }
    },
  } as unknown as OnboardingClient;
  const log = capturingLogger();
  const approve = (name: string) => run.templates.set(`${name}/en_US`, { name, language: 'en_US', status: 'APPROVED', updatedAt: new Date(0).toISOString() });
  return { run, log, approve, onboardings, readiness: new TemplateReadiness(onboardings, createMetrics(), log, TTL) };
}

test('within the TTL, sends of a template share one read and ask Temporal nothing else', async () => {
  const { run, approve, readiness } = fakeRun({ holdReads: true });
  approve('spring');
  const first = readiness.read('1', 'spring', 'en_US');
  const second = readiness.read('1', 'spring', 'en_US');
  await settled();
  expect(run.reads).toHaveLength(1);
  run.heldReads[0].resolve(undefined as never);
  expect((await first).template?.name).toBe('spring');
  expect(await second).toBe(await first);
  now += TTL - 1;
  await readiness.read('1', 'spring', 'en_US');
  expect(run.reads).toHaveLength(1);
  expect(run.describes).toBe(0);
});

test('sparse sends (one per 30 s) cost a describe each and no query while nothing changes: 1,000 sends, one read', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  for (let i = 0; i < 1_000; i++) {
    now += 30_000;
    expect((await readiness.read('1', 'spring', 'en_US')).template?.status).toBe('APPROVED');
  }
  expect(run.reads).toHaveLength(1);
  expect(run.describes).toBe(999);
});

test('a send reads only the template it sends; another template is a read of its own, not the whole book', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  approve('summer');
  const spring = await readiness.read('1', 'spring', 'en_US');
  expect(spring.template?.name).toBe('spring');
  expect(spring).not.toHaveProperty('templates');
  await readiness.read('1', 'summer', 'en_US');
  expect(run.reads.map((r) => r.name)).toEqual(['spring', 'summer']);
});

test("a burst of first sends across 50 templates is two queries, not 50: one in flight per WABA, the templates asked meanwhile together in the next", async () => {
  const { run, approve, readiness } = fakeRun({ holdReads: true });
  const names = Array.from({ length: 50 }, (_, i) => `burst_${i}`);
  names.forEach(approve);
  const answers = names.map((name) => readiness.read('1', name, 'en_US'));
  const untracked = readiness.read('1', 'never_approved', 'en_US');
  await settled();
  expect(run.queries).toHaveLength(1); // the first, alone; the rest wait for it
  run.heldReads.shift()!.resolve(undefined as never);
  await settled();
  expect(run.queries).toHaveLength(2);
  expect(run.queries[1]).toHaveLength(50);
  for (const held of run.heldReads.splice(0)) held.resolve(undefined as never);
  const read = await Promise.all(answers);
  expect(read.map((r) => r.template?.name)).toEqual(names);
  expect((await untracked).template).toBeUndefined();
  // Kept: the same sends again ask nothing.
  await Promise.all(names.map((name) => readiness.read('1', name, 'en_US')));
  expect(run.queries).toHaveLength(2);
});

test('a run of a build before the batched read is asked one template at a time, as that build answers', async () => {
  const { run, approve, readiness, onboardings } = fakeRun();
  approve('spring');
  approve('summer');
  onboardings.templatesReadiness = () => Promise.reject(Object.assign(new Error('no such query'), { name: 'QueryNotRegisteredError' }));
  const [spring, summer] = await Promise.all([readiness.read('1', 'spring', 'en_US'), readiness.read('1', 'summer', 'en_US')]);
  expect([spring.template?.name, summer.template?.name]).toEqual(['spring', 'summer']);
  expect(run.reads.map((r) => r.name).sort()).toEqual(['spring', 'summer']);
});

test("a failed batched read fails each send that waited on it, and is not kept: the next send asks again", async () => {
  const { run, approve, readiness, onboardings } = fakeRun();
  approve('spring');
  const batched = onboardings.templatesReadiness.bind(onboardings);
  onboardings.templatesReadiness = () => Promise.reject(new Error('deadline exceeded'));
  await expect(readiness.read('1', 'spring', 'en_US')).rejects.toThrow('deadline exceeded');
  onboardings.templatesReadiness = batched;
  expect((await readiness.read('1', 'spring', 'en_US')).template?.name).toBe('spring');
  expect(run.queries).toHaveLength(1);
});

test('past the TTL a send answers from memory while one describe checks; a moved version drops what is kept and the next send reads again', async () => {
  const { run, approve, readiness } = fakeRun({ holdDescribes: true });
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');

  now += TTL + 1;
  run.messageActivitySharing = true;
  run.stamp = { ...run.stamp, version: 1 }; // a settings change, as the run's memo says
  // The describe is held open: these sends must not wait for it.
  expect((await readiness.read('1', 'spring', 'en_US')).messageActivitySharing).toBe(false);
  expect((await readiness.read('1', 'spring', 'en_US')).messageActivitySharing).toBe(false);
  expect(run.describes).toBe(1); // one check, not one per send

  run.heldDescribes[0].resolve(undefined as never);
  await settled();
  expect((await readiness.read('1', 'spring', 'en_US')).messageActivitySharing).toBe(true);
  expect(run.reads).toHaveLength(2);
});

test('a status change is heard from the describe alone (the OnboardingStatus search attribute), without a version bump', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');
  now += 2 * TTL;
  run.stamp = { ...run.stamp, status: 'NEEDS_ATTENTION' };
  expect((await readiness.read('1', 'spring', 'en_US')).status).toBe('NEEDS_ATTENTION');
  expect(run.reads).toHaveLength(2);
});

test('past twice the TTL a send waits for the describe: what it decides on is never older than that', async () => {
  const { run, approve, readiness } = fakeRun({ holdDescribes: true });
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');
  now += 2 * TTL;
  let answered = false;
  const waiting = readiness.read('1', 'spring', 'en_US').then((r) => ((answered = true), r));
  await settled();
  expect(answered).toBe(false);
  run.stamp = { ...run.stamp, version: 3 };
  run.templates.get('spring/en_US')!.status = 'PAUSED';
  run.heldDescribes[0].resolve(undefined as never);
  expect((await waiting).template?.status).toBe('PAUSED');
});

test('a template the WABA does not track is checked before the answer: one approved a moment ago is read, within the TTL', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');
  expect((await readiness.read('1', 'summer', 'en_US')).template).toBeUndefined();
  // Its webhook lands: the run's version moves; the memory is only a moment old.
  approve('summer');
  run.stamp = { ...run.stamp, version: 1 };
  now += 10;
  expect((await readiness.read('1', 'summer', 'en_US')).template?.name).toBe('summer');
  // Untracked sends cost a describe each, not a query each, while nothing changes.
  const reads = run.reads.length;
  for (let i = 0; i < 20; i++) await readiness.read('1', 'winter', 'en_US');
  expect(run.reads.length).toBe(reads + 1);
});

test("this process's own send record is put into its memory: no read again, and a describe that sees the version it wrote agrees", async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');
  readiness.refreshInBackground('1', 'spring', 'en_US');
  await lingered(() => run.updates.length === 1);
  expect(run.updates).toHaveLength(1);
  now += 2 * TTL;
  const after = await readiness.read('1', 'spring', 'en_US');
  expect(after.template?.lastSentAt).toBeDefined();
  expect(run.reads).toHaveLength(1);
  expect(run.describes).toBe(1);
});

test("50 templates' first sends after the daily refresh: their records go in one update, and one update at a time per WABA (a run takes 10 in flight)", async () => {
  const { run, approve, readiness } = fakeRun({ holdUpdates: true });
  const names = Array.from({ length: 51 }, (_, i) => `t${i}`);
  names.forEach(approve);
  for (const name of names.slice(0, 50)) {
    await readiness.read('1', name, 'en_US');
    readiness.refreshInBackground('1', name, 'en_US');
  }
  await lingered();
  expect(run.updates.map((u) => u.length)).toEqual([50]);
  // Another falls due while that update is in flight: it waits for it.
  await readiness.read('1', 't50', 'en_US');
  readiness.refreshInBackground('1', 't50', 'en_US');
  await lingered();
  expect(run.updates).toHaveLength(1);
  run.heldUpdates[0].resolve(undefined as never);
  await lingered();
  expect(run.updates.map((u) => u.length)).toEqual([50, 1]);
  run.heldUpdates[1].resolve(undefined as never);
  await lingered();
  expect(run.maxInFlightUpdates).toBe(1);
  expect(names.every((n) => run.templates.get(`${n}/en_US`)!.lastSentAt !== undefined)).toBe(true);
});

test('a batch the workflow refuses (nothing due: another process recorded first) drops what is kept, so the next send reads what was written', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  await readiness.read('1', 'spring', 'en_US');
  (readiness as unknown as { records: { onboardings: { recordTemplateSends: unknown } } }).records.onboardings.recordTemplateSends = () =>
    Promise.reject(new WorkflowUpdateFailedError('nothing to record', undefined));
  readiness.refreshInBackground('1', 'spring', 'en_US');
  await lingered();
  await readiness.read('1', 'spring', 'en_US');
  expect(run.reads).toHaveLength(2);
});

test('a send that decided on the refresh before this process recorded it asks nothing more: a refused update is billed too', async () => {
  const { run, approve, readiness } = fakeRun();
  approve('spring');
  const read = await readiness.read('1', 'spring', 'en_US');
  expect(read.template?.lastSentAt).toBeUndefined(); // the refresh is due: every send in flight saw that
  readiness.refreshInBackground('1', 'spring', 'en_US');
  await lingered();
  // Sends that were waiting on Graph meanwhile now ask for the same refresh.
  for (let i = 0; i < 5; i++) readiness.refreshInBackground('1', 'spring', 'en_US');
  await lingered();
  expect(run.updates).toHaveLength(1);
});
