/** The test server suggests continue-as-new past this many history events (production: ~4k). */
export const CONTINUE_AS_NEW_SUGGESTED_AT = 300;

/** The suite's dev server's second namespace, for the release tests (test/temporal/release-*.test.ts). */
export const RELEASES_NAMESPACE = 'releases';
