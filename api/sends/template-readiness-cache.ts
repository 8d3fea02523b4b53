/**
 * The send gate's memory of template readiness. Sends are the hot path and Temporal is not, and
 * Temporal Cloud bills every query: a send reads the one template it sends (the WABA's facts and that
 * template) once, and keeps it while the run says nothing has changed. The reads of one WABA go one
 * query at a time (`getTemplatesReadiness`), the templates asked meanwhile together in the next: a
 * burst of first sends across 50 templates is two queries, not 50 queued on the run.
 *
 * Each read is stamped with the run's id, its readiness version and its status
 * (workflows/readiness-version.ts). Past the TTL the stamp is checked with a describe, which needs no
 * worker and is no billed action: unchanged, what is kept stays good for another TTL; changed (a
 * template webhook, a send record, a settings change, a status change), the WABA's reads are dropped
 * and each template is read again when a send needs it. So what a send decides on is at most 2 × TTL
 * behind the run, sparse sends (one per 30 s) cost a describe each and no query, and a dense WABA a
 * describe per TTL. Nothing here is the source of truth: a restarted API, or several API processes,
 * answer alike.
 *
 * A send is recorded in the workflow only when it matters (workflows/template-readiness.ts): the first
 * send after an idle window (it starts Meta's re-sync, and the validator lets exactly one sender win)
 * and the daily refresh of `lastSentAt`, batched per WABA (api/sends/send-records.ts). What the
 * workflow recorded is put into the reads kept here, so this process reads nothing again for its own
 * records; the validator refuses what another process recorded first (a billed action, no write).
 */
import { MAX_TEMPLATE_READS_PER_QUERY, type TemplateRef, type TemplateSendRequest } from '../../workflows/messages';
import { sendRecordDue, templateKey } from '../../workflows/template-readiness';
import type { TemplateBook, TemplateReadinessRead } from '../../workflows/types';
import type { Logger } from '../http/logger';
import type { Metrics } from '../ops/metrics';
import type { OnboardingClient, ReadinessStamp } from '../partner/onboarding-client';
import { SharedAnswers } from '../http/shared-answers';
import { SendRecords, type RecordedSend } from './send-records';
import { isQueryNotRegistered } from '../http/errors';
import { KeyedBatcher, type Waiter } from './keyed-batcher';

/** How long a confirmed stamp is trusted: a busy WABA costs one describe per TTL, a pause is heard within it. */
export const DEFAULT_TEMPLATE_CACHE_MS = 5_000;
/** WABAs kept; the least recently read are dropped first, so the map stays the size of the active set. */
const MAX_CACHED_WABAS = 100_000;
/** Templates kept per WABA (a WABA tracks up to 10,000); past it the WABA's reads start over. */
const MAX_CACHED_TEMPLATES_PER_WABA = 1_000;

interface WabaEntry {
  /** The stamp the kept reads share; undefined until one answers (or for a run of an earlier build, which has none). */
  stamp?: ReadinessStamp;
  /** When the stamp was last confirmed (a read asked, or a describe agreed). */
  checkedAt: number;
  /** A describe in flight for this WABA. */
  checking?: Promise<void>;
  /** Reads by template. */
  reads: Map<string, Read>;
}

interface Read {
  answer: Promise<TemplateReadinessRead>;
  answered: boolean;
}

const sameStamp = (a: ReadinessStamp | undefined, b: ReadinessStamp) => a !== undefined && a.runId === b.runId && a.version === b.version && a.status === b.status;
const stampOf = (r: TemplateReadinessRead): ReadinessStamp => ({ runId: r.runId, version: r.version, status: r.status });

export class TemplateReadiness {
  private readonly entries = new Map<string, WabaEntry>();
  /** Background refresh records in flight, by WABA and template. */
  private readonly refreshing = new Set<string>();
  /** Re-sync records by WABA and template: one per template in this process, its answer shared by the sends that wanted it. */
  private readonly resyncs: SharedAnswers<boolean>;
  private readonly records: SendRecords;
  /** Template reads, one query in flight per WABA; the templates asked meanwhile go together in the next. */
  private readonly readBatches = new KeyedBatcher<TemplateRef, TemplateReadinessRead>({
    maxPerCall: MAX_TEMPLATE_READS_PER_QUERY,
    call: (wabaId, batch) => this.readBatch(wabaId, batch),
  });

  constructor(
    private readonly onboardings: OnboardingClient,
    metrics: Metrics,
    private readonly log: Logger,
    private readonly ttlMs = DEFAULT_TEMPLATE_CACHE_MS,
  ) {
    // A send that read before the record was written (at most 2 × TTL ago) is still routed by the record's answer.
    this.resyncs = new SharedAnswers(2 * ttlMs);
    this.records = new SendRecords(onboardings, metrics);
  }

  /**
   * What a send of `name` (`language`) decides with. Within the TTL from memory; past it, a send still
   * answers from memory while one describe checks the stamp in the background; past twice the TTL, or
   * with `fresh`, the send waits for the describe. A template the WABA does not track is always checked
   * first: one approved a moment ago (its webhook just landed) is read, not refused from memory.
   */
  async read(wabaId: string, name: string, language: string, opts: { fresh?: boolean } = {}): Promise<TemplateReadinessRead> {
    const key = templateKey(name, language);
    let entry = this.entry(wabaId);
    const kept = entry.reads.get(key);
    const age = Date.now() - entry.checkedAt;
    let checked = false;
    if (!entry.stamp) {
      // Nothing to check against: reads in flight are shared; an unstamped read (an earlier build's run) lasts one TTL.
      if (age >= this.ttlMs && kept?.answered) entry = this.fresh(wabaId);
    } else if (opts.fresh || (age >= this.ttlMs && !(kept?.answered && age < 2 * this.ttlMs))) {
      await this.check(wabaId, entry);
      checked = true;
    } else if (age >= this.ttlMs) {
      this.check(wabaId, entry).catch((err: unknown) => this.log.warn('could not check template readiness', { wabaId, error: err instanceof Error ? err.message : String(err) }));
    }
    entry = this.entry(wabaId);
    const readBefore = entry.reads.has(key);
    let answer = await this.readTemplate(wabaId, entry, key, name, language);
    if (!answer.template && !checked && readBefore && entry.stamp) {
      await this.check(wabaId, entry);
      answer = await this.readTemplate(wabaId, this.entry(wabaId), key, name, language);
    }
    return answer;
  }

  /** The whole book, fresh (the template routes; a partner's read, not a send's). */
  book(wabaId: string): Promise<TemplateBook> {
    return this.onboardings.templateBook(wabaId);
  }

  forget(wabaId: string): void {
    this.entries.delete(wabaId);
  }

  private entry(wabaId: string): WabaEntry {
    const entry = this.entries.get(wabaId);
    if (entry) {
      // Least recently used last: the map's order drops the coldest WABA first.
      this.entries.delete(wabaId);
      this.entries.set(wabaId, entry);
      return entry;
    }
    return this.fresh(wabaId);
  }

  private fresh(wabaId: string, stamp?: ReadinessStamp, checkedAt = 0): WabaEntry {
    const entry: WabaEntry = { checkedAt, reads: new Map(), ...(stamp ? { stamp } : {}) };
    this.entries.delete(wabaId);
    this.entries.set(wabaId, entry);
    if (this.entries.size > MAX_CACHED_WABAS) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  /** One describe per WABA at a time: the stamp unchanged confirms what is kept; changed, it is dropped. */
  private check(wabaId: string, entry: WabaEntry): Promise<void> {
    entry.checking ??= (async () => {
      const askedAt = Date.now();
      try {
        const stamp = await this.onboardings.readinessStamp(wabaId);
        if (this.entries.get(wabaId) !== entry) return; // forgotten or replaced meanwhile
        if (sameStamp(entry.stamp, stamp)) entry.checkedAt = Math.max(entry.checkedAt, askedAt);
        else this.fresh(wabaId);
      } finally {
        entry.checking = undefined;
      }
    })();
    return entry.checking;
  }

  /** The kept read of the template, or its place in the WABA's next query, shared by the sends that need it. */
  private readTemplate(wabaId: string, entry: WabaEntry, key: string, name: string, language: string): Promise<TemplateReadinessRead> {
    const kept = entry.reads.get(key);
    if (kept) return kept.answer;
    const askedAt = Date.now();
    const read: Read = { answer: this.readBatches.add(wabaId, { name, language }), answered: false };
    if (entry.reads.size >= MAX_CACHED_TEMPLATES_PER_WABA) entry.reads.clear();
    entry.reads.set(key, read);
    read.answer.then(
      (answer) => {
        read.answered = true;
        if (this.entries.get(wabaId) !== entry) return;
        if (answer.listing) {
          // READY moments ago, its templates still being listed: used by the sends that asked, not kept.
          if (entry.reads.get(key) === read) entry.reads.delete(key);
          return;
        }
        const stamp = stampOf(answer);
        if (answer.version < 0) {
          // A run of an earlier build: nothing to check the read against; kept for one TTL.
          if (!entry.stamp) entry.checkedAt = askedAt;
          return;
        }
        if (!entry.stamp) {
          entry.stamp = stamp;
          entry.checkedAt = askedAt;
        } else if (!sameStamp(entry.stamp, stamp) && !(stamp.runId === entry.stamp.runId && stamp.version < entry.stamp.version)) {
          // Something changed since the other kept reads: they go, this one stays.
          this.fresh(wabaId, stamp, askedAt).reads.set(key, read);
        } else if (!sameStamp(entry.stamp, stamp)) {
          entry.reads.delete(key); // older than what this process already applied: read again next time
        }
      },
      () => {
        if (entry.reads.get(key) === read) entry.reads.delete(key); // a failed read is not kept: the next send asks again
      },
    );
    return read.answer;
  }

  /** One query for the batch of templates asked meanwhile (at most MAX_TEMPLATE_READS_PER_QUERY). */
  private async readBatch(wabaId: string, batch: Array<Waiter<TemplateRef, TemplateReadinessRead>>): Promise<void> {
    try {
      const { templates, ...stamped } = await this.onboardings.templatesReadiness(
        wabaId,
        batch.map((w) => w.item),
      );
      batch.forEach((w, i) => {
        const template = templates[i];
        w.resolve({ ...stamped, ...(template ? { template } : {}) });
      });
    } catch (err) {
      if (!isQueryNotRegistered(err)) throw err;
      // A run of a build before `getTemplatesReadiness`: one query a template, as that build answers.
      for (const w of batch) w.resolve(this.readOne(wabaId, w.item));
    }
  }

  private readOne(wabaId: string, { name, language }: TemplateRef): Promise<TemplateReadinessRead> {
    return this.onboardings.templateReadiness(wabaId, { name, language }).catch((err: unknown) => this.olderBuild(wabaId, name, language, err));
  }

  /** A run of a build before `getTemplateReadiness`: the whole book, unstamped (version -1). */
  private async olderBuild(wabaId: string, name: string, language: string, err: unknown): Promise<TemplateReadinessRead> {
    if (!isQueryNotRegistered(err)) throw err;
    const { templates, ...header } = await this.onboardings.templateBook(wabaId);
    const template = templates.find((t) => t.name === name && t.language === language);
    return { ...header, runId: '', version: -1, ...(template ? { template } : {}) };
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
      return recorded !== undefined;
    });
    return first && answer;
  }

  /**
   * The daily `lastSentAt` refresh, off the send's path. A send that decided before this process's
   * record landed (it was waiting on Graph) finds the refresh done and asks nothing: a refused update
   * is billed too.
   */
  refreshInBackground(wabaId: string, name: string, language: string): void {
    const key = `${wabaId}\u0000${templateKey(name, language)}`;
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    this.stillDue(wabaId, name, language)
      .then((due) => (due ? this.record(wabaId, { name, language, record: 'refresh' }) : undefined))
      .catch((err: unknown) => {
        // The next send past the interval tries again; the send itself already went out.
        this.log.warn('could not record a template send', { wabaId, template: name, error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => this.refreshing.delete(key));
  }

  /** Whether what this process keeps still says the refresh is due (true when it keeps nothing). */
  private async stillDue(wabaId: string, name: string, language: string): Promise<boolean> {
    const kept = this.entries.get(wabaId)?.reads.get(templateKey(name, language));
    if (!kept?.answered) return true;
    const read = await kept.answer;
    return !read.template || sendRecordDue(read.template, read, Date.now()) === 'refresh';
  }

  private async record(wabaId: string, send: TemplateSendRequest): Promise<RecordedSend | undefined> {
    const recorded = await this.records.record(wabaId, send);
    this.remember(wabaId, recorded);
    return recorded;
  }

  /**
   * Puts what the workflow recorded into the kept reads, so this process's next sends see it at once
   * and read nothing again: when this record is the only change since the stamp (the version moved by
   * one). Otherwise, or when it was not due (another process recorded), the WABA's reads are dropped.
   */
  private remember(wabaId: string, recorded: RecordedSend | undefined): void {
    const entry = this.entries.get(wabaId);
    if (!entry) return;
    const stamp = entry.stamp;
    if (!recorded || !recorded.tracked || !stamp || stamp.runId !== recorded.runId || stamp.version !== recorded.version - 1) {
      // A batch moves the version once: the other sends of the same batch find it moved already.
      if (recorded && stamp && stamp.runId === recorded.runId && stamp.version === recorded.version && recorded.tracked) {
        this.replaceTemplate(entry, recorded);
        return;
      }
      this.forget(wabaId);
      return;
    }
    entry.stamp = { ...stamp, version: recorded.version };
    this.replaceTemplate(entry, recorded);
  }

  private replaceTemplate(entry: WabaEntry, recorded: RecordedSend): void {
    const key = templateKey(recorded.name, recorded.language);
    const kept = entry.reads.get(key);
    if (!kept) return;
    const answer = kept.answer.then((r) => ({ ...r, version: recorded.version, template: recorded.tracked }));
    entry.reads.set(key, { answer, answered: kept.answered });
  }
}
