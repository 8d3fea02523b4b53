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
import { KeyedBatcher, type Waiter } from './keyed-batcher';

/** What the workflow recorded for one send, and the run's stamp after it; undefined when it was not due. */
export type RecordedSend = TemplateSendsRecorded['results'][number] & { runId: string; version: number };

type Waiting = Waiter<TemplateSendRequest, RecordedSend | undefined>;

/** A refresh (off the send's path) waits this long for others of the WABA to fall due with it; a re-sync (on it) goes at once. */
const REFRESH_LINGER_MS = 50;

const sameSend = (a: TemplateSendRequest, b: TemplateSendRequest) => a.name === b.name && a.language === b.language && a.record === b.record;

export class SendRecords {
  private readonly batches = new KeyedBatcher<TemplateSendRequest, RecordedSend | undefined>({
    maxPerCall: MAX_SEND_RECORDS_PER_UPDATE,
    call: (wabaId, batch) => this.write(wabaId, batch),
    same: sameSend,
    lingerMs: (waiting) => (waiting.every((send) => send.record === 'refresh') ? REFRESH_LINGER_MS : 0),
  });

  constructor(
    private readonly onboardings: OnboardingClient,
    private readonly metrics: Metrics,
  ) {}

  /** Records one send with whatever else of the WABA is waiting; undefined when the workflow says it is not due. */
  record(wabaId: string, send: TemplateSendRequest): Promise<RecordedSend | undefined> {
    return this.batches.add(wabaId, send);
  }

  private async write(wabaId: string, batch: Waiting[]): Promise<void> {
    try {
      const answer = await this.onboardings.recordTemplateSends(
        wabaId,
        batch.map((w) => w.item),
      );
      batch.forEach((w, i) => {
        const result = answer.results[i];
        const recorded = result?.recorded !== undefined;
        this.metrics.sendRecords.inc({ record: w.item.record, result: recorded ? 'written' : 'refused' });
        w.resolve(recorded ? { ...result, runId: answer.runId, version: answer.version } : undefined);
      });
    } catch (err) {
      if (isUnknownUpdate(err)) return this.writeOneByOne(wabaId, batch);
      if (err instanceof WorkflowUpdateFailedError) {
        // Nothing in the batch was due (another API process recorded first): billed, no history event.
        for (const w of batch) {
          this.metrics.sendRecords.inc({ record: w.item.record, result: 'refused' });
          w.resolve(undefined);
        }
        return;
      }
      for (const w of batch) {
        this.metrics.sendRecords.inc({ record: w.item.record, result: 'failed' });
        w.reject(err);
      }
    }
  }

  /** A run of an earlier build: one `recordTemplateSend` at a time. */
  private async writeOneByOne(wabaId: string, batch: Waiting[]): Promise<void> {
    for (const w of batch) {
      try {
        const recorded = await this.onboardings.recordTemplateSend(wabaId, w.item);
        this.metrics.sendRecords.inc({ record: w.item.record, result: 'written' });
        const { name, language } = w.item;
        // No stamp from an earlier build: version -1 never matches, so the gate reads the template again.
        w.resolve({ name, language, recorded: recorded.recorded, template: recorded.template, runId: '', version: -1 });
      } catch (err) {
        const refused = err instanceof WorkflowUpdateFailedError;
        this.metrics.sendRecords.inc({ record: w.item.record, result: refused ? 'refused' : 'failed' });
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
