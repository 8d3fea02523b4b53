/**
 * The send records of each WABA (workflows/template-readiness.ts: a re-sync's first send, the daily
 * refresh), batched: one `recordTemplateSends` update in flight per WABA in this process, and the
 * records that fall due meanwhile go together in the next. A run takes at most 10 updates in flight;
 * the first sends of 50 templates after the daily refresh are two updates here, not 50.
 *
 * A run of a build before `recordTemplateSends` refuses it as unknown: its records then go one
 * `recordTemplateSend` at a time, still one update in flight.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { MAX_SEND_RECORDS_PER_UPDATE, type TemplateSendRequest, type TemplateSendsRecorded } from '../../workflows/messages';
import type { Metrics } from '../ops/metrics';
import type { OnboardingClient } from '../partner/onboarding-client';

/** What the workflow recorded for one send, and the run's stamp after it; undefined when it was not due. */
export type RecordedSend = TemplateSendsRecorded['results'][number] & { runId: string; version: number };

interface Waiting {
  send: TemplateSendRequest;
  answer: Promise<RecordedSend | undefined>;
  resolve(recorded: RecordedSend | undefined): void;
  reject(err: unknown): void;
}

interface Queue {
  waiting: Waiting[];
  busy: boolean;
}

/** A refresh (off the send's path) waits this long for others of the WABA to fall due with it; a re-sync (on it) goes at once. */
const REFRESH_LINGER_MS = 50;

const sameSend = (a: TemplateSendRequest, b: TemplateSendRequest) => a.name === b.name && a.language === b.language && a.record === b.record;

export class SendRecords {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly onboardings: OnboardingClient,
    private readonly metrics: Metrics,
  ) {}

  /** Records one send with whatever else of the WABA is waiting; undefined when the workflow says it is not due. */
  record(wabaId: string, send: TemplateSendRequest): Promise<RecordedSend | undefined> {
    let queue = this.queues.get(wabaId);
    if (!queue) this.queues.set(wabaId, (queue = { waiting: [], busy: false }));
    const same = queue.waiting.find((w) => sameSend(w.send, send));
    if (same) return same.answer;
    let resolve!: Waiting['resolve'];
    let reject!: Waiting['reject'];
    const answer = new Promise<RecordedSend | undefined>((res, rej) => ((resolve = res), (reject = rej)));
    queue.waiting.push({ send, answer, resolve, reject });
    if (!queue.busy) void this.flush(wabaId, queue);
    return answer;
  }

  /** Ceiling: each pass takes up to MAX_SEND_RECORDS_PER_UPDATE records off the queue, which grows only by sends. */
  private async flush(wabaId: string, queue: Queue): Promise<void> {
    queue.busy = true;
    try {
      if (queue.waiting.every((w) => w.send.record === 'refresh')) await new Promise((r) => setTimeout(r, REFRESH_LINGER_MS));
      while (queue.waiting.length > 0) await this.write(wabaId, queue.waiting.splice(0, MAX_SEND_RECORDS_PER_UPDATE));
    } finally {
      queue.busy = false;
      if (this.queues.get(wabaId) === queue) this.queues.delete(wabaId);
    }
  }

  private async write(wabaId: string, batch: Waiting[]): Promise<void> {
    try {
      const answer = await this.onboardings.recordTemplateSends(
        wabaId,
        batch.map((w) => w.send),
      );
      batch.forEach((w, i) => {
        const result = answer.results[i];
        const recorded = result?.recorded !== undefined;
        this.metrics.sendRecords.inc({ record: w.send.record, result: recorded ? 'written' : 'refused' });
        w.resolve(recorded ? { ...result, runId: answer.runId, version: answer.version } : undefined);
      });
    } catch (err) {
      if (isUnknownUpdate(err)) return this.writeOneByOne(wabaId, batch);
      if (err instanceof WorkflowUpdateFailedError) {
        // Nothing in the batch was due (another API process recorded first): billed, no history event.
        for (const w of batch) {
          this.metrics.sendRecords.inc({ record: w.send.record, result: 'refused' });
          w.resolve(undefined);
        }
        return;
      }
      for (const w of batch) {
        this.metrics.sendRecords.inc({ record: w.send.record, result: 'failed' });
        w.reject(err);
      }
    }
  }

  /** A run of an earlier build: one `recordTemplateSend` at a time. */
  private async writeOneByOne(wabaId: string, batch: Waiting[]): Promise<void> {
    for (const w of batch) {
      try {
        const recorded = await this.onboardings.recordTemplateSend(wabaId, w.send);
        this.metrics.sendRecords.inc({ record: w.send.record, result: 'written' });
        const { name, language } = w.send;
        // No stamp from an earlier build: version -1 never matches, so the gate reads the template again.
        w.resolve({ name, language, recorded: recorded.recorded, template: recorded.template, runId: '', version: -1 });
      } catch (err) {
        const refused = err instanceof WorkflowUpdateFailedError;
        this.metrics.sendRecords.inc({ record: w.send.record, result: refused ? 'refused' : 'failed' });
        if (refused) w.resolve(undefined);
        else w.reject(err);
      }
    }
  }
}

/** The run's build has no `recordTemplateSends` handler (the SDK rejects such an update in its validation). */
function isUnknownUpdate(err: unknown): boolean {
  if (!(err instanceof WorkflowUpdateFailedError)) return false;
  const cause = (err as { cause?: { message?: string } }).cause;
  return /no registered handler for update/i.test(`${err.message} ${cause?.message ?? ''}`);
}
