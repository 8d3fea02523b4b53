/**
 * A release of the service (id `mm-release:<deployment>:<build>`, one per deployment version): once a
 * build is the deployment's current version, every open run pinned to an older build is brought onto
 * it, and the versions nobody runs any more are deleted (activities/release.ts says how).
 *
 *   pass over the runs of older builds (wake or move each, at a bounded rate) … until none is left
 *   → delete retired versions (retried while pollers are still remembered or runs still drain, with
 *     a pass before each retry) → DONE
 *   … or, once another build is current, REPLACED at the next pass (its release goes on from there)
 *
 * The worker that makes its build current starts it; `npm run release` starts it for a rollout made
 * by hand. Its progress is in the Web UI's current details and the `getReleaseState` query.
 */
import { proxyActivities, setCurrentDetails, setHandler, sleep } from '@temporalio/workflow';
import type { createReleaseActivities } from '../activities/release';
import { getReleaseStateQuery } from './messages';
import { releaseWorkflowId, type MoveRunsOutcome, type ReleaseInput, type ReleaseState } from './release-types';

const { moveRunsOfOlderBuilds, deleteRetiredVersions } = proxyActivities<ReturnType<typeof createReleaseActivities>>({
  // A pass paces itself (ratePerSecond) and heartbeats per run; a lost worker's pass starts over.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 10 },
});

export async function release(input: ReleaseInput): Promise<ReleaseState> {
  const { target, inPlace } = input;
  const state: ReleaseState = { target, inPlace, status: 'MOVING_RUNS', passes: [], left: 0, deleted: [], kept: [], startedAt: new Date().toISOString() };
  setHandler(getReleaseStateQuery, () => state);
  describe(state);

  // Ceiling: maxPasses passes, each touching every listed run once.
  for (let pass = 1; pass <= (input.maxPasses ?? 10); pass++) {
    const outcome = await moveRunsOfOlderBuilds({ ...input, releaseWorkflowId: releaseWorkflowId(target) });
    if (outcome.replacedBy) return replaced(state, outcome);
    state.passes.push(outcome);
    const before = state.left;
    state.left = runsLeft(outcome);
    describe(state);
    // Done when a pass finds no run of an older build (runs started there meanwhile, say by an old
    // build's discovery page, are found by the next pass), or nothing moved since the last pass but
    // runs that cannot move here.
    if (outcome.found === 0 || (outcome.refused > 0 && state.left === outcome.refused && state.left === before)) break;
    await sleep(`${input.passIntervalSeconds ?? 30}s`);
  }

  state.status = 'DELETING_VERSIONS';
  // Ceiling: maxDeleteTries tries (and as many passes); a version stays while its runs drain or its pollers are remembered.
  for (let attempt = 1; attempt <= (input.maxDeleteTries ?? 12); attempt++) {
    const retired = await deleteRetiredVersions({ target });
    state.deleted.push(...retired.deleted);
    state.kept = retired.kept;
    describe(state);
    if (retired.kept.length === 0) break;
    await sleep(`${input.deleteIntervalSeconds ?? 300}s`);
    // A run can reach an older build after the last pass found none: started in the moment this build
    // became current, before every task queue partition heard, or listed late by visibility. It would
    // keep that version from draining, and stay there once its workers stop: each retry looks again.
    const late = await moveRunsOfOlderBuilds({ ...input, releaseWorkflowId: releaseWorkflowId(target) });
    if (late.replacedBy) return replaced(state, late);
    if (late.found > 0) {
      state.passes.push(late);
      state.left = runsLeft(late);
      describe(state);
    }
  }
  state.status = 'DONE';
  state.finishedAt = new Date().toISOString();
  describe(state);
  return state;
}

/** Another build became current: its release takes over from here, and this one ends. */
function replaced(state: ReleaseState, outcome: MoveRunsOutcome): ReleaseState {
  state.status = 'REPLACED';
  state.replacedBy = outcome.replacedBy;
  state.finishedAt = new Date().toISOString();
  describe(state);
  return state;
}

/** Runs a pass found that are still on an older build: all but those moved (either way), superseded or gone. */
function runsLeft(o: MoveRunsOutcome): number {
  return o.found - o.moved - o.movedThemselves - o.superseded - o.gone;
}

/** The Web UI's current details: the release's progress in words. */
function describe(s: ReleaseState): void {
  const last = s.passes.at(-1);
  const lines = [
    `**${s.status}** — release of ${s.target.deploymentName}:${s.target.buildId} (${s.inPlace ? 'in place' : 'side by side'}) since ${s.startedAt}`,
    last
      ? `pass ${s.passes.length}: ${last.found} run(s) on older builds · ${last.woken} woken (${last.movedThemselves} moved themselves) · ` +
        `${last.moved} moved by replay proof · ${last.refused} refused · ${last.gone} closed meanwhile · ${s.left} left`
      : 'listing the runs of older builds',
  ];
  if (last?.refusedRuns.length) lines.push(`not replayable on this build (left on their build): ${last.refusedRuns.join('; ')}`);
  if (s.deleted.length || s.kept.length) lines.push(`versions deleted: ${s.deleted.join(', ') || 'none'} · kept: ${s.kept.join(', ') || 'none'}`);
  if (s.replacedBy) lines.push(`replaced: ${s.target.deploymentName}:${s.replacedBy} is the current version now, and its release goes on`);
  if (s.finishedAt) lines.push(`finished ${s.finishedAt}`);
  setCurrentDetails(lines.join('\n\n'));
}
