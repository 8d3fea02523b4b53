/**
 * The send gate's memory of each WABA's template readiness. Sends are the hot path and Temporal is
 * not: readiness comes from the onboarding's `getTemplates` query (a read, no history event), kept
 * here for a short TTL and shared by concurrent sends (one query in flight per WABA). Nothing here
 * is the source of truth, so a restarted API, or several API processes, answer alike: each refills
 * from the workflow.
 *
 * A send is recorded in the workflow only when it matters (workflows/template-readiness.ts): the first send
 * after an idle window (it starts Meta's re-sync, and the validator lets exactly one sender win) and
 * the daily refresh of `lastSentAt`. Refreshes go in the background, one in flight per template per
 * process, and the validator refuses all but the first across processes, so a refused one costs no
 * write.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TemplateSendRecorded, TemplateSendRequest } from '../../workflows/messages';
import { findTemplate, templateKey } from '../../workflows/template-readiness';
import type { TemplateBook } from '../../workflows/types';
import type { Logger } from '../http/logger';
import type { Metrics } from '../ops/metrics';
import type { OnboardingClient } from '../partner/onboarding-client';
import { SharedAnswers } from '../http/shared-answers';

/** Long enough that a busy WABA costs one query per few seconds, short enough that a pause is heard quickly. */
export const DEFAULT_TEMPLATE_CACHE_MS = 5_000;
/** A WABA not asked about for this long is dropped, so the map stays the size of the active set. */
const MAX_CACHED_WABAS = 100_000;

interface Entry {
  book: Promise<TemplateBook>;
  fetchedAt: number;
  /** The read answered (a book that may be served stale while the next read runs). */
  answered: boolean;
  /** A background read in flight for this WABA. */
  refreshing?: boolean;
}

export class TemplateReadiness {
  private readonly books = new Map<string, Entry>();
  /** Background refresh records in flight, by WABA and template. */
  private readonly refreshing = new Set<string>();
  /** Re-sync records by WABA and template: one per template in this process, its answer shared by the sends that wanted it. */
  private readonly resyncs: SharedAnswers<boolean>;

  constructor(
    private readonly onboardings: OnboardingClient,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly ttlMs = DEFAULT_TEMPLATE_CACHE_MS,
  ) {
    // A send that read its book before the record was written (at most 2 × TTL ago) is still routed by the record's answer.
    this.resyncs = new SharedAnswers(2 * ttlMs);
  }

  /**
   * The WABA's template book, from memory when fresh enough. Past the TTL, a send still answers from
   * memory while one read refreshes it in the background (a query takes a round trip to a worker,
   * and every send of a busy WABA would wait for it); past twice the TTL, or with nothing answered
   * yet, the send waits for the read. So the book a send decides on is at most 2 × TTL old.
   */
  book(wabaId: string, opts: { fresh?: boolean } = {}): Promise<TemplateBook> {
    const now = Date.now();
    const cached = this.books.get(wabaId);
    // A read in flight is fresh: it began after the last forget (a record, a settings change), so the
    // sends that waited on one re-sync record share one read instead of a query each.
    if (cached && opts.fresh && !cached.answered) return cached.book;
    if (cached && !opts.fresh) {
      const age = now - cached.fetchedAt;
      if (age < this.ttlMs) return cached.book;
      if (cached.answered && age < 2 * this.ttlMs) {
        if (!cached.refreshing) this.refreshInTheBackground(wabaId, cached);
        return cached.book;
      }
    }
    return this.read(wabaId, now).book;
  }

  private read(wabaId: string, now: number): Entry {
    const entry = this.store(wabaId, { book: this.onboardings.templateBook(wabaId), fetchedAt: now, answered: false });
    entry.book.then(
      () => {
        entry.answered = true;
      },
      () => {
        // A failed read is not remembered: the next send asks again.
        if (this.books.get(wabaId) === entry) this.books.delete(wabaId);
      },
    );
    return entry;
  }

  /** Keeps `entry` as the WABA's book, last in the map: its order is least recently fetched first. */
  private store(wabaId: string, entry: Entry): Entry {
    this.books.delete(wabaId);
    this.books.set(wabaId, entry);
    if (this.books.size > MAX_CACHED_WABAS) this.books.delete(this.books.keys().next().value!);
    return entry;
  }

  private refreshInTheBackground(wabaId: string, stale: Entry): void {
    stale.refreshing = true;
    const askedAt = Date.now();
    const next = this.onboardings.templateBook(wabaId);
    next.then(
      (book) => {
        // Unless something newer replaced it meanwhile (a forget, a fresh read).
        if (this.books.get(wabaId) === stale) this.store(wabaId, { book: Promise.resolve(book), fetchedAt: askedAt, answered: true });
      },
      (err: unknown) => {
        // The stale book serves until 2 × TTL; then a send reads for itself.
        stale.refreshing = false;
        this.log.warn('could not refresh template readiness', { wabaId, error: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  forget(wabaId: string): void {
    this.books.delete(wabaId);
  }

  /**
   * Records the send that starts a re-sync, before it goes out. Returns true for the one send whose
   * record the workflow wrote; false when another send of this process is recording it (or just did),
   * or the workflow says it is not due (another process started the re-sync first): the caller reads
   * again and decides anew.
   */
  async recordResync(wabaId: string, name: string, language: string): Promise<boolean> {
    const { first, answer } = await this.resyncs.run(`${wabaId}\u0000${templateKey(name, language)}`, async () => {
      const recorded = await this.record(wabaId, { name, language, record: 'resync' });
      this.forget(wabaId); // every later send must see the re-sync
      return recorded !== undefined;
    });
    return first && answer;
  }

  /** The daily `lastSentAt` refresh, off the send's path. */
  refreshInBackground(wabaId: string, name: string, language: string): void {
    const key = `${wabaId}\u0000${templateKey(name, language)}`;
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    this.record(wabaId, { name, language, record: 'refresh' })
      .then((recorded) => this.remember(wabaId, recorded))
      .catch((err: unknown) => {
        // The next send past the interval tries again; the send itself already went out.
        this.log.warn('could not record a template send', { wabaId, template: name, error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => this.refreshing.delete(key));
  }

  private async record(wabaId: string, send: TemplateSendRequest): Promise<TemplateSendRecorded | undefined> {
    try {
      const recorded = await this.onboardings.recordTemplateSend(wabaId, send);
      this.metrics.sendRecords.inc({ record: send.record, result: 'written' });
      return recorded;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        this.metrics.sendRecords.inc({ record: send.record, result: 'refused' });
        return undefined;
      }
      this.metrics.sendRecords.inc({ record: send.record, result: 'failed' });
      throw err;
    }
  }

  /** Puts what the workflow recorded into the cached book, so this process's next sends see it at once. */
  private remember(wabaId: string, recorded: TemplateSendRecorded | undefined): void {
    const entry = this.books.get(wabaId);
    if (!entry) return;
    if (!recorded) {
      this.forget(wabaId); // someone else recorded first: read what they wrote
      return;
    }
    entry.book = entry.book.then((book) => {
      const t = findTemplate(book.templates, recorded.template.name, recorded.template.language);
      if (t && recorded.template.lastSentAt) t.lastSentAt = recorded.template.lastSentAt;
      return book;
    });
  }
}
