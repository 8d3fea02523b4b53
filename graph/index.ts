export {
  GraphClient,
  isRegisteredOnCloudApi,
  type BusinessOnboardingStatus,
  type ClientWaba,
  type ClientWabaPage,
  type GraphClientOptions,
  type IntentRequestResult,
  type MessageTemplate,
  type SendEdge,
  type SentMessage,
  type OnboardingStatusField,
  type PhoneNumber,
  type TokenDebugInfo,
  type WabaOnboardingStatus,
} from './client';
export {
  classifyGraphError,
  CODE_REJECTED_SUBCODES,
  GraphApiError,
  GraphCodeRejectedError,
  GraphNeedsAttentionError,
  GraphRequestError,
  GraphResponseError,
  GraphRetryableError,
  GraphThrottledError,
  INTENT_ALREADY_SENT_SUBCODE,
  redactSecrets,
  retryAfterMsOf,
  THROTTLING_CODES,
  type ClassifyContext,
  type GraphErrorFields,
  type GraphErrorKind,
} from './errors';
export { INSIGHTS_PERMISSION, namePermissions, permissionsOf, REQUIRED_PERMISSIONS, type TokenPermissions } from './permissions';
export { createGraphClient } from './from-config';
export { MAX_ANALYTICS_TEMPLATES } from './client';
export { AD_CONVERSION_FIELDS, AD_INSIGHTS_FIELDS, type AdInsights, type DailySeries, type DayRange, type TemplateAnalytics, type TemplateWithAd } from './insights';
export { GraphUsage, SLOW_DOWN_FROM_PERCENT, type UsageHeader, type UsageSnapshot } from './usage';
