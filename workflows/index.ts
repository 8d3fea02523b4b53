// The workflows this service registers with its worker.
export { onboarding } from './onboarding';
export { businessIntent } from './business-intent';
export { discovery, repeatDiscovery } from './discovery';
