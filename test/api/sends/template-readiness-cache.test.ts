/**
 * The send gate's memory of template readiness (api/sends/template-readiness-cache.ts): a busy WABA's sends
 * never wait for the workflow query that refreshes it, and what they decide on is never older than
 * twice the TTL. The clock is Date.now, set by each test; reads are held open until released.
 */
import { createMetrics } from '../../../api/ops/metrics';
import type { OnboardingClient } from '../../../api/partner/onboarding-client';
import { TemplateReadiness } from '../../../api/sends/template-readiness-cache';
import type { TemplateBook } from '../../../workflows/types';
import { capturingLogger } from '../../harness/app-harness';

const TTL = 5_000;
let now = 1_000_000;
beforeEach(() => {
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => jest.restoreAllMocks());

const bookVersion = (version: number): TemplateBook => ({
  wabaId: '1',
  status: 'READY',
  templateSyncGraceSeconds: 600,
  templateIdleSeconds: 604_800,
  messageActivitySharing: version % 2 === 0,
  templates: [],
});

/** A workflow whose getTemplates reads are answered (or refused) when the test says so. */
function heldReads() {
  const reads: Array<{ resolve: (b: TemplateBook) => void; reject: (e: Error) => void }> = [];
  const onboardings = {
    templateBook: () => new Promise<TemplateBook>((resolve, reject) => void reads.push({ resolve, reject })),
  } as unknown as OnboardingClient;
  const log = capturingLogger();
  return { reads, log, readiness: new TemplateReadiness(onboardings, createMetrics(), log, TTL) };
}

/** A readiness whose first read has answered with version 1 of the book, at `now`. */
async function primed() {
  const held = heldReads();
  const initial = held.readiness.book('1');
  held.reads[0].resolve(bookVersion(1));
  await initial;
  return held;
}

const settled = () => new Promise((r) => setImmediate(r));

test('within the TTL, sends share one read', async () => {
  const { reads, readiness } = heldReads();
  const first = readiness.book('1');
  const second = readiness.book('1');
  expect(reads).toHaveLength(1);
  reads[0].resolve(bookVersion(1));
  expect(await first).toBe(await second);
  now += TTL - 1;
  await readiness.book('1');
  expect(reads).toHaveLength(1);
});

test('past the TTL a send answers from memory at once while one read refreshes it; the next sends see the new book', async () => {
  const { reads, readiness } = await primed();

  now += TTL + 1;
  // The refresh is held open: these sends must not wait for it.
  expect((await readiness.book('1')).messageActivitySharing).toBe(false);
  expect((await readiness.book('1')).messageActivitySharing).toBe(false);
  expect(reads).toHaveLength(2); // one refresh, not one per send

  reads[1].resolve(bookVersion(2));
  await settled();
  expect((await readiness.book('1')).messageActivitySharing).toBe(true);
  expect(reads).toHaveLength(2);
});

test('past twice the TTL a send waits for a fresh read: a stale book is never older than that', async () => {
  const { reads, readiness } = await primed();

  now += TTL + 1;
  await readiness.book('1'); // starts a refresh, which never answers
  now += TTL;
  let answered = false;
  const waiting = readiness.book('1').then((b) => ((answered = true), b));
  await settled();
  expect(answered).toBe(false);
  expect(reads).toHaveLength(3);
  reads[2].resolve(bookVersion(2));
  expect((await waiting).messageActivitySharing).toBe(true);
});

test('a refresh that fails keeps the stale book until twice the TTL, then a send reads for itself', async () => {
  const { reads, readiness, log } = await primed();

  now += TTL + 1;
  await readiness.book('1');
  reads[1].reject(new Error('Temporal unavailable'));
  await settled();
  expect(log.text()).toContain('could not refresh template readiness');
  // Still within 2 × TTL: served from memory, and a new refresh is tried.
  expect((await readiness.book('1')).messageActivitySharing).toBe(false);
  expect(reads).toHaveLength(3);

  now += TTL;
  const waiting = readiness.book('1');
  expect(reads).toHaveLength(4);
  reads[3].resolve(bookVersion(2));
  expect((await waiting).messageActivitySharing).toBe(true);
});

test('forget and fresh reads are not overwritten by an older refresh landing later', async () => {
  const { reads, readiness } = await primed();

  now += TTL + 1;
  await readiness.book('1'); // refresh #1 held open
  const fresh = readiness.book('1', { fresh: true });
  reads[2].resolve(bookVersion(2));
  expect((await fresh).messageActivitySharing).toBe(true);
  reads[1].resolve(bookVersion(3)); // the older refresh lands last
  await settled();
  expect((await readiness.book('1')).messageActivitySharing).toBe(true);
});
