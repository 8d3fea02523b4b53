import { nextPollDelaySeconds, readOnboardingStatus } from '../../workflows/eligibility';
import { StatusReadBudget, STATUS_READS_PER_DAY } from '../../workflows/graph-budget';

const current = (s: string) => readOnboardingStatus(s, 'marketing_messages_onboarding_status');

describe('reading marketing_messages_onboarding_status', () => {
  test.each([
    ['ELIGIBLE', 'eligible'],
    ['ONBOARDED', 'onboarded'],
    ['PENDING_VALID_PAYMENT_METHOD', 'wait'],
    ['PENDING_INTERNAL_SETUP', 'wait'],
    ['INELIGIBLE_INACTIVE_OR_RESTRICTED', 'wait'],
    ['INELIGIBLE_ON_BEHALF_OF_WABA', 'intent_only'],
    ['INELIGIBLE_COUNTRY_NOT_SUPPORTED', 'ineligible'],
    ['INELIGIBLE_USING_WHATSAPP_BUSINESS_APP', 'ineligible'],
    ['INELIGIBLE_SOMETHING_NEW', 'ineligible'],
    ['SOME_FUTURE_VALUE', 'wait'],
  ])('%s reads as %s', (status, kind) => {
    expect(current(status).kind).toBe(kind);
  });

  test('reasons carry the value verbatim, including unknown future values', () => {
    expect(current('SOME_FUTURE_VALUE')).toEqual({ kind: 'wait', reason: expect.stringContaining('SOME_FUTURE_VALUE') });
    expect(current('INELIGIBLE_COUNTRY_NOT_SUPPORTED')).toEqual({
      kind: 'ineligible',
      reason: expect.stringMatching(/^INELIGIBLE_COUNTRY_NOT_SUPPORTED: .*country/),
    });
  });

  test.each([
    ['ELIGIBLE', 'eligible'],
    ['ONBOARDED', 'onboarded'],
    ['INELIGIBLE', 'ineligible'],
    ['UNKNOWN', 'wait'],
  ])('legacy marketing_messages_lite_api_status %s reads as %s', (status, kind) => {
    expect(readOnboardingStatus(status, 'marketing_messages_lite_api_status').kind).toBe(kind);
  });
});

describe('polling backoff', () => {
  test('starts at the configured interval, doubles, and stops at a day', () => {
    const delays: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) delays.push((d = nextPollDelaySeconds(d, 3600)));
    expect(delays).toEqual([3600, 7200, 14400, 28800, 57600, 86400, 86400, 86400]);
  });
});

describe('daily budget of status reads', () => {
  test('allows a bounded number of reads per rolling day', () => {
    const budget = new StatusReadBudget([]);
    const t0 = 1_000_000;
    for (let i = 0; i < STATUS_READS_PER_DAY; i++) {
      expect(budget.hasRoom(t0 + i)).toBe(true);
      budget.record(t0 + i);
    }
    expect(budget.hasRoom(t0 + 3600_000)).toBe(false);
    expect(budget.hasRoom(t0 + 24 * 3600_000 + 1)).toBe(true);
  });

  test('asking whether there is room changes nothing (update validators ask it); recording a read forgets the day-old ones', () => {
    const day = 24 * 3600_000;
    const recent = [1_000, 2_000, 3_000];
    const budget = new StatusReadBudget(recent);
    expect(budget.hasRoom(day + 1_500)).toBe(true);
    expect(budget.nextAllowedAt(day + 1_500)).toBe(0);
    expect(recent).toEqual([1_000, 2_000, 3_000]);
    budget.record(day + 1_500);
    expect(recent).toEqual([2_000, 3_000, day + 1_500]);
  });

  test('a spent budget names when the next read is allowed', () => {
    const budget = new StatusReadBudget(Array.from({ length: STATUS_READS_PER_DAY + 2 }, (_, i) => 1_000 + i));
    expect(budget.hasRoom(2_000)).toBe(false);
    // Two reads over the budget: room again once the third oldest is a day old.
    expect(budget.nextAllowedAt(2_000)).toBe(1_002 + 24 * 3600_000);
  });
});
