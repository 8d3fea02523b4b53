import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { GraphClient, GraphUsage } from './graph';
import { createDiscoveryActivities } from './discovery';
import { createOnboardingGraphActivities } from './onboarding-graph';
import { createBusinessIntentActivities } from './business-intent';
import { createPartnerCallbackActivities } from './partner-callbacks';
import { deriveSealingKey } from './secrets';

/** Every activity the worker registers, built once from the config. */
export function createActivities(config: Config, client: Client, graphUsage = new GraphUsage(config.graph.maxRps)) {
  const graph = new GraphClient({
    baseUrl: config.graph.baseUrl,
    version: config.graph.version,
    accessToken: config.graph.accessToken,
    appId: config.meta.appId,
    appSecret: config.meta.appSecret,
    usage: graphUsage,
  });
  return {
    ...createOnboardingGraphActivities(graph, deriveSealingKey(config.meta.appSecret)),
    ...createBusinessIntentActivities(client),
    ...createDiscoveryActivities(graph, client, config),
    ...createPartnerCallbackActivities({ callback: config.partnerCallback }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
