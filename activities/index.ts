import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createGraphClient, GraphUsage } from '../graph';
import { createDiscoveryActivities } from './discovery';
import { createOnboardingGraphActivities } from './onboarding-graph';
import { createBusinessIntentActivities } from './business-intent';
import { createBulkRecheckActivities } from './bulk-recheck';
import { createPartnerCallbackActivities } from './partner-callbacks';
import { createCallbackCircuitActivities } from './partner-callback-circuit';
import { createInsightsActivities } from './insights';
import { deriveSealingKey } from '../secrets/sealing';
import { countedDeliveries, countGraphError } from './activity-metrics';

/**
 * Every activity the worker registers, built once from the config. `eagerStarter`, a client on the
 * workers' own connection, starts the discovery's onboardings eagerly on them.
 */
export function createActivities(config: Config, client: Client, graphUsage = new GraphUsage(config.graph.maxRps), eagerStarter?: Client) {
  const graph = createGraphClient(config, { usage: graphUsage, onError: countGraphError });
  return {
    ...createOnboardingGraphActivities(graph, deriveSealingKey(config.meta.appSecret)),
    ...createBusinessIntentActivities(client),
    ...createBulkRecheckActivities(client),
    ...createDiscoveryActivities(graph, client, config, eagerStarter),
    ...countedDeliveries(createPartnerCallbackActivities({ callback: config.partnerCallback })),
    ...createCallbackCircuitActivities(client, config),
    ...createInsightsActivities(graph, deriveSealingKey(config.meta.appSecret)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
