// The workflows this service registers with its worker.
export { onboarding } from './onboarding';
export { businessIntent } from './business-intent';
export { signupLink } from './signup-link';
export { discovery, repeatDiscovery } from './discovery';
export { bulkRecheck } from './bulk-recheck';
export { insightsRead } from './insights-read';
export { insightsDailyPage } from './insights-daily-page';
export { release } from './release';
export { partnerCallbackCircuit } from './partner-callback-circuit';
