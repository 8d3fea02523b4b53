/**
 * Phases `grace` (SYNCING_TEMPLATES) and `watching` (READY). Once the terms are signed, Meta syncs
 * the WABA's marketing templates to its new ad account (up to 10 minutes, shared/seed: "What
 * Onboarding Creates"); after that grace the WABA is READY, its approved marketing templates are
 * tracked, and the run stays open for the account's life (rechecks, bans, offboarding).
 */
import { graph, NeedsAttention, onboardingActivities } from '../graph-calls';
import { mergeListing } from '../template-readiness';
import { noteNotTracked } from '../template-cap';
import { settleDriftCheck } from '../drift-check';
import type { Next, OnboardingRun } from './run';
import { beginPass, decide } from './eligibility';
import { attentionReasons, noLongerOnboarded } from '../attention-reasons';

/** → `watching`. A run `resumed` here waits out what is left of its predecessor's grace. */
export async function templateGrace(run: OnboardingRun, resumed = false): Promise<Next> {
  const { state, process, inbox, record } = run;
  if (!resumed || process.syncingSince === undefined) {
    const terms = inbox.terms ?? { source: 'poll', at: new Date().toISOString() }; // Meta said ONBOARDED
    state.termsSignedAt ??= terms.at;
    state.termsSource ??= terms.source;
    // Spent: recorded in the state, the signing no longer stands for a later pass. Only a signing heard
    // after this one, or Meta saying ONBOARDED, takes the WABA back to READY (eligibility.ts, `decide`).
    delete inbox.terms;
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

/**
 * Leaves for NEEDS_ATTENTION, an ending, a new run (continue-as-new), or a new pass when a recheck
 * finds the WABA no longer onboarded: READY stands only while Meta's last word is ONBOARDED.
 */
export async function watchAccount(run: OnboardingRun): Promise<Next> {
  if (run.process.templatesListedAt !== run.state.readyAt) await listTemplates(run);
  // Ceiling: one read per recheck or drift check (each within the daily budget, drift checks at most
  // hourly); idle otherwise.
  for (;;) {
    await run.wait(() => run.rechecksPending() || run.inbox.driftCheck !== undefined, { movesIn: 'watching' });
    const drift = run.inbox.driftCheck;
    run.inbox.driftCheck = undefined;
    const verdict = await run.readStatus();
    if (drift) settleDriftCheck(run, drift, verdict);
    if (verdict.kind === 'onboarded') {
      run.record.explain(undefined);
      continue;
    }
    const said = noLongerOnboarded(run.state.eligibility);
    // Eligible again: the business must sign the terms again, down the WABA's path.
    if (verdict.kind !== 'wait' && verdict.kind !== 'ineligible') {
      beginPass(run, `${said}: the terms signed before no longer stand`);
      return decide(run, verdict);
    }
    throw new NeedsAttention(attentionReasons.metaNoLongerOnboarded(run.state.eligibility));
  }
}

/** From READY on, the WABA's approved marketing templates are tracked; webhooks keep them current. */
async function listTemplates(run: OnboardingRun): Promise<void> {
  const { state, process } = run;
  const startedAt = new Date().toISOString();
  const listed = await graph(() => onboardingActivities.listMarketingTemplates({ wabaId: state.wabaId, sealedToken: process.sealedToken }));
  const now = new Date().toISOString();
  const merged = mergeListing(process.templates, listed, startedAt, now, (t) => noteNotTracked(process, t, now));
  process.templates.splice(0, process.templates.length, ...merged);
  process.templatesListedAt = state.readyAt;
  if (process.templatesNotTracked?.last.at === now) run.record.describe();
}
