/**
 * The signup desk: beside the process, it exchanges each Embedded Signup code the moment the submit
 * update puts it in the inbox (a code lives 30 s), whatever phase the onboarding is in. The token's
 * permissions are checked before it is used: without both WhatsApp permissions for this WABA the
 * onboarding needs attention (the customer signs up again and grants them).
 */
import { CancellationScope, condition } from '@temporalio/workflow';
import { graph, NeedsAttention, onboardingActivities, signupCodeRejection } from '../graph-calls';
import type { SignupCodeUpdate } from '../messages';
import type { OnboardingRun } from './run';
import { attentionReasons } from '../attention-reasons';

/** Opens the desk; never cancelled (like the partner callbacks), so cancelling the run leaves no waiter behind. */
export function openSignupDesk(run: OnboardingRun): void {
  void CancellationScope.nonCancellable(async () => {
    // Ceiling: one exchange per code handed over; the update's validator refuses a code while one is
    // in the exchange, and any code once the signup is complete.
    for (;;) {
      await condition(() => run.inbox.signup !== undefined);
      await exchangeSignupCode(run, run.inbox.signup!);
      run.inbox.signup = undefined;
    }
  });
}

async function exchangeSignupCode(run: OnboardingRun, signup: SignupCodeUpdate): Promise<void> {
  const { state, process, inbox, record } = run;
  try {
    // A signup the API exchanged before starting anything hands over the token; a bare code is exchanged here.
    const sealedToken =
      signup.sealedToken ?? (await graph(() => onboardingActivities.exchangeSignupCode({ sealedCode: signup.sealedCode }))).sealedToken;
    const permissions = await graph(() => onboardingActivities.checkTokenPermissions({ wabaId: state.wabaId, sealedToken }));
    state.insightsAvailable = permissions.insightsAvailable;
    state.missingPermissions = permissions.missing.length ? permissions.missing : undefined;
    if (!permissions.valid || permissions.missing.length) {
      throw new NeedsAttention(permissions.valid ? attentionReasons.signupTokenLacks(permissions.missing) : attentionReasons.signupTokenInvalid());
    }
    process.sealedToken = sealedToken;
    await graph(() => onboardingActivities.subscribeApp({ wabaId: state.wabaId, sealedToken }));
    process.signupDone = true;
    state.signupCompletedAt = new Date().toISOString();
    if (state.status === 'AWAITING_SIGNUP') record.explain('Embedded Signup complete; waiting for the terms');
    // Parked (e.g. for a permission the first signup lacked): a good signup is the fix, so go on.
    if (state.status === 'NEEDS_ATTENTION') inbox.rechecks.asked++;
  } catch (err) {
    const rejection = signupCodeRejection(err);
    if (rejection !== undefined) {
      record.explain(`Meta rejected the Embedded Signup code (${rejection}); waiting for a fresh code`);
      return;
    }
    if (!(err instanceof NeedsAttention)) throw err;
    if (state.status === 'NEEDS_ATTENTION') {
      record.explain(err.message);
      return;
    }
    // The process parks in NEEDS_ATTENTION when it next waits; the update answers once it has.
    inbox.attention ??= err.message;
    await condition(() => inbox.attention === undefined || state.status === 'NEEDS_ATTENTION' || run.isFinal());
  }
}
