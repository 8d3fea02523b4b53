/**
 * Each onboarding a discovery starts carries the discovery's first run id as a search attribute
 * (`DiscoveryRunId`), in its start options: no workflow command, and the discovery's outcomes
 * (how many READY, stuck, ended) are one visibility count each (api/partner/discovery-outcomes.ts).
 */
import { DiscoveryRunIdKey } from '../temporal/search-attributes';
import type { onboardingStartOptions } from '../workflows/start-options';

type StartOptions = ReturnType<typeof onboardingStartOptions>;

/** The discovery's first run id, from its page key (`<first run id>:<page>`, workflows/discovery.ts). */
export function discoveryRunIdOf(discoveryKey: string): string {
  const colon = discoveryKey.lastIndexOf(':');
  return colon > 0 ? discoveryKey.slice(0, colon) : discoveryKey;
}

export function withDiscoveryRunId(start: StartOptions, discoveryKey: string) {
  return {
    ...start,
    typedSearchAttributes: [...start.typedSearchAttributes, { key: DiscoveryRunIdKey, value: discoveryRunIdOf(discoveryKey) }],
  };
}
