/**
 * A partner's discovery of its customers (id `mm-discovery:<portfolio id>`, one at a time per
 * portfolio): page by page through the portfolio's client WABAs whose
 * `marketing_messages_onboarding_status` is ELIGIBLE, starting one onboarding per WABA under the end
 * business that owns it (so each end business gets its own Intent API request, once).
 *
 *   read a page → start its onboardings → next page … → COMPLETED (or FAILED when Meta refuses)
 *
 * Each page's progress is recorded only once its onboardings are started, so a crash repeats at most
 * that page, and the page's start is idempotent: no WABA is started twice, none is skipped, and the
 * counts stay exact. The run continues as new between pages well before its history grows long,
 * carrying its counts, the cursor and the last pages' ids: the same few KB however long the list.
 */
import {
  ActivityFailure,
  CancellationScope,
  isCancellation,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  DEFAULT_DISCOVERY_PAGE_SIZE,
  newDiscoveryState,
  type DiscoveryInput,
  type DiscoveryState,
  type PageStartOutcome,
} from './discovery-types';
import { discoveryActivities, graph, NeedsAttention } from './graph-calls';
import { getDiscoveryStateQuery } from './messages';
import { DiscoveryStatusKey } from '../temporal/search-attributes';
import { discoveryStartOptions } from './start-options';
import { continueOnCurrentBuild, listenForWakes, timeForNewRun } from './build-moves';
import { ListedIds } from './discovery-listed';
import { countDiscoveryOutcomes } from './funnel-metrics';

/** Far past any real portfolio (100 WABAs a page): a cursor that never ends is Meta's bug. */
const MAX_PAGES = 5_000;
/** Each page writes about a dozen events; continue as new long before Temporal's limits. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 1_000;

export async function discovery(input: DiscoveryInput): Promise<DiscoveryState> {
  const state: DiscoveryState = input.carriedOver?.state ?? newDiscoveryState(input, new Date().toISOString());
  let after = input.carriedOver?.after;
  // The ids of the last pages: a Graph whose pages overlap (a slipped cursor) counts and starts each once.
  const listed = ListedIds.carriedOver(input.carriedOver, input.pageSize ?? DEFAULT_DISCOVERY_PAGE_SIZE);
  setHandler(getDiscoveryStateQuery, () => state);
  listenForWakes();
  describe(state);

  try {
    for (;;) {
      if (state.pages >= MAX_PAGES) throw new NeedsAttention(`Meta's list did not end after ${MAX_PAGES} pages`);
      const page = await graph(() =>
        discoveryActivities.listEligibleClientWabas({ portfolioId: input.businessId, after, pageSize: input.pageSize ?? DEFAULT_DISCOVERY_PAGE_SIZE }),
      );
      const fresh = listed.fresh(page.wabas);
      if (fresh.length > 0) {
        const outcome = await startOnboardings({
          // Stable across retries and crashes: a retried page recognises the onboardings it started.
          discoveryKey: `${workflowInfo().firstExecutionRunId}:${state.pages}`,
          wabas: fresh,
          path: input.path,
          options: input.options,
        });
        state.started += outcome.started;
        state.alreadyRunning += outcome.alreadyRunning;
        state.failed += outcome.failed;
        countDiscoveryOutcomes(outcome);
      }
      state.pages++;
      state.found += fresh.length;
      describe(state);
      if (page.after === undefined) break;
      after = page.after;
      // Between pages: a long history, or a newer build of the workers (Worker Versioning), moves it on.
      if (timeForNewRun({ events: CONTINUE_AS_NEW_AFTER_EVENTS })) {
        await continueOnCurrentBuild<typeof discovery>({ ...input, carriedOver: { state, after, seen: listed.recent() } });
      }
    }
    state.status = 'COMPLETED';
  } catch (err) {
    // Cancelled (the Web UI, `temporal workflow cancel`): a page's activity reports it as its own
    // failure, so the scope says whether this is a cancellation. The counts stand as they are.
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      state.status = 'CANCELLED';
      state.error = 'the discovery was cancelled';
    } else if (err instanceof NeedsAttention) {
      state.status = 'FAILED';
      state.error = err.message;
    } else {
      throw err;
    }
  }
  state.completedAt = new Date().toISOString();
  upsertSearchAttributes([{ key: DiscoveryStatusKey, value: state.status }]);
  describe(state);
  return state;
}

async function startOnboardings(
  ...args: Parameters<typeof discoveryActivities.startDiscoveredOnboardings>
): Promise<PageStartOutcome> {
  try {
    return await discoveryActivities.startDiscoveredOnboardings(...args);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    throw new NeedsAttention(`starting the onboardings of a page kept failing: ${err.cause?.message ?? err.message}`);
  }
}

/**
 * What the discovery's Temporal Schedule runs at each interval: the same discovery, unless one is
 * still running for the portfolio (then this run ends and that one carries on).
 */
export async function repeatDiscovery(input: DiscoveryInput): Promise<'started' | 'already_running'> {
  try {
    await startChild(discovery, { ...discoveryStartOptions(input), parentClosePolicy: 'ABANDON' });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_running';
    throw err;
  }
}

/** The Web UI's current details: the progress in words. */
function describe(s: DiscoveryState): void {
  const lines = [
    `**${s.status}**${s.error ? ` — ${s.error}` : ''}`,
    `partner portfolio ${s.businessId} · path ${s.path} · since ${s.startedAt}`,
    `${s.pages} page(s) read · ${s.found} ELIGIBLE WABA(s) found · ${s.started} onboarding(s) started · ` +
      `${s.alreadyRunning} already running · ${s.failed} failed`,
  ];
  if (s.completedAt) lines.push(`finished ${s.completedAt}`);
  setCurrentDetails(lines.join('\n\n'));
}
