/** The test server suggests continue-as-new past this many history events (production: ~4k). */
export const CONTINUE_AS_NEW_SUGGESTED_AT = 300;

/** The suite's dev server's second namespace, for the release tests (test/temporal/release-*.test.ts). */
export const RELEASES_NAMESPACE = 'releases';
/**
 * A third, for the tests of namespace-wide counts (/metrics' onboarding gauges): any other test file
 * running beside them moves onboardings in and out of the statuses they count.
 */
export const GAUGES_NAMESPACE = 'gauges';
