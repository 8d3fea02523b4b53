/**
 * Phases `grace` (SYNCING_TEMPLATES) and `watching` (READY). Once the terms are signed, Meta syncs
 * the WABA's marketing templates to its new ad account (up to 10 minutes, shared/seed: "What
 * Onboarding Creates"); after that grace the WABA is READY, its approved marketing templates are
 * tracked, and the run stays open for the account's life (rechecks, bans, offboarding).
 */
import { graph, onboardingActivities } from '../graph-calls';
import { mergeListing } from '../template-readiness';
import { settleDriftCheck } from '../drift-check';
import type { Next, OnboardingRun } from './run';

/** → `watching`. A run `resumed` here waits out what is left of its predecessor's grace. */
export async function templateGrace(run: OnboardingRun, resumed = false): Promise<Next> {
  const { state, process, inbox, record } = run;
  if (!resumed || process.syncingSince === undefined) {
    const terms = (inbox.terms ??= { source: 'poll', at: new Date().toISOString() }); // ONBOARDED at the first check
    state.termsSignedAt ??= terms.at;
    state.termsSource ??= terms.source;
    process.syncingSince = Date.now();
    record.moveTo('SYNCING_TEMPLATES', 'waiting for Meta to sync marketing templates to the ad account');
  }
  const left = process.syncingSince + run.options.templateSyncGraceSeconds * 1000 - Date.now();
  if (left > 0) await run.wait(() => false, { seconds: left / 1000, movesIn: 'grace' });
  state.readyAt = new Date().toISOString();
  process.syncingSince = undefined;
  record.moveTo('READY');
  return 'watching';
}

/** Leaves only for NEEDS_ATTENTION, an ending, or a new run (continue-as-new). */
export async function watchAccount(run: OnboardingRun): Promise<never> {
  if (run.process.templatesListedAt !== run.state.readyAt) await listTemplates(run);
  // Ceiling: one read per recheck or drift check (each within the daily budget, drift checks at most
  // hourly); idle otherwise.
  for (;;) {
    await run.wait(() => run.rechecksPending() || run.inbox.driftCheck !== undefined, { movesIn: 'watching' });
    const drift = run.inbox.driftCheck;
    run.inbox.driftCheck = undefined;
    const verdict = await run.readStatus();
    if (drift) settleDriftCheck(run, drift, verdict);
    run.record.explain(verdict.kind === 'onboarded' ? undefined : `Meta now reports ${run.state.eligibility}`);
  }
}

/** From READY on, the WABA's approved marketing templates are tracked; webhooks keep them current. */
async function listTemplates(run: OnboardingRun): Promise<void> {
  const { state, process } = run;
  const startedAt = new Date().toISOString();
  const listed = await graph(() => onboardingActivities.listMarketingTemplates({ wabaId: state.wabaId, sealedToken: process.sealedToken }));
  process.templates.splice(0, process.templates.length, ...mergeListing(process.templates, listed, startedAt, new Date().toISOString()));
  process.templatesListedAt = state.readyAt;
}
