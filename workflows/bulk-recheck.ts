/**
 * A bulk recheck (id `mm-recheck:<businessId|all>:<reasonKind|all>`, one per filter at a time): every
 * onboarding the filter finds parked in NEEDS_ATTENTION gets a recheck, as if an operator had asked
 * each (POST /v1/onboardings/<wabaId>/recheck), page by page at BULK_RECHECKS_PER_SECOND at most. A
 * token or permission fixed once for a business resumes all its WABAs in one call.
 *
 *   list a page of parked onboardings → recheck each (accepted, refused, skipped) → next page … → COMPLETED
 *
 * Each WABA's daily read budget stays its own: the onboarding's recheck validator refuses a WABA whose
 * budget is spent (counted as refused). A page's activity retried after a crash asks again with the
 * same update ids, which Temporal runs once.
 */
import { ActivityFailure, CancellationScope, isCancellation, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BULK_RECHECK_PAGE_SIZE, BULK_RECHECKS_PER_SECOND, newBulkRecheckState, type BulkRecheckInput, type BulkRecheckState } from './bulk-recheck-types';
import { getBulkRecheckStateQuery } from './messages';
import { continueOnCurrentBuild, listenForWakes, timeForNewRun } from './build-moves';

/** A page's rechecks take at most PAGE_SIZE / PER_SECOND seconds plus their calls to Temporal (5 s each, at worst). */
const { recheckParkedPage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Far past any real fleet (50 a page): a listing that never ends is a bug. */
const MAX_PAGES = 2_000;
const CONTINUE_AS_NEW_AFTER_EVENTS = 1_000;

export async function bulkRecheck(input: BulkRecheckInput): Promise<BulkRecheckState> {
  const state = input.carriedOver?.state ?? newBulkRecheckState(input, new Date().toISOString());
  let pageToken = input.carriedOver?.pageToken;
  setHandler(getBulkRecheckStateQuery, () => state);
  listenForWakes();
  describe(state);
  try {
    // Ceiling: MAX_PAGES pages of BULK_RECHECK_PAGE_SIZE, each an activity that paces its rechecks.
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await recheckParkedPage({
        filter: { businessId: input.businessId, reasonKind: input.reasonKind },
        pageToken,
        pageSize: BULK_RECHECK_PAGE_SIZE,
        perSecond: BULK_RECHECKS_PER_SECOND,
        // Stable across retries and runs: a WABA is asked once per bulk recheck, however often its page is retried.
        updateIdPrefix: `${state.id}:${workflowInfo().firstExecutionRunId}`,
      });
      state.listed += page.listed;
      state.asked += page.asked;
      state.refused += page.refused;
      state.skipped += page.skipped;
      state.failed += page.failed;
      describe(state);
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
      if (timeForNewRun({ events: CONTINUE_AS_NEW_AFTER_EVENTS })) {
        await continueOnCurrentBuild<typeof bulkRecheck>({ ...input, carriedOver: { state, pageToken } });
      }
    }
    state.status = 'COMPLETED';
  } catch (err) {
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      state.status = 'CANCELLED';
      state.error = 'the bulk recheck was cancelled';
    } else if (err instanceof ActivityFailure) {
      state.status = 'FAILED';
      state.error = `listing or rechecking a page kept failing: ${err.cause?.message ?? err.message}`;
    } else {
      throw err;
    }
  }
  state.completedAt = new Date().toISOString();
  describe(state);
  return state;
}

/** The Web UI's current details: the progress in words. */
function describe(s: BulkRecheckState): void {
  const lines = [
    `**${s.status}**${s.error ? ` — ${s.error}` : ''}`,
    `NEEDS_ATTENTION onboardings of business ${s.businessId ?? 'any'} · reason kind ${s.reasonKind ?? 'any'} · since ${s.startedAt}`,
    `${s.matched} matched when asked · ${s.listed} listed · ${s.asked} rechecked · ${s.refused} refused (read budget spent) · ${s.skipped} skipped · ${s.failed} failed`,
  ];
  if (s.completedAt) lines.push(`finished ${s.completedAt}`);
  setCurrentDetails(lines.join('\n\n'));
}
