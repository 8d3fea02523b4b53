/** The test server suggests continue-as-new past this many history events (production: ~4k). */
export const CONTINUE_AS_NEW_SUGGESTED_AT = 300;
