import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createGraphClient, GraphUsage } from '../graph';
import { createDiscoveryActivities } from './discovery';
import { createOnboardingGraphActivities } from './onboarding-graph';
import { createBusinessIntentActivities } from './business-intent';
import { createPartnerCallbackActivities } from './partner-callbacks';
import { createInsightsActivities } from './insights';
import { deriveSealingKey } from '../secrets/sealing';

/**
 * Every activity the worker registers, built once from the config. `eagerStarter`, a client on the
 * workers' own connection, starts the discovery's onboardings eagerly on them.
 */
export function createActivities(config: Config, client: Client, graphUsage = new GraphUsage(config.graph.maxRps), eagerStarter?: Client) {
  const graph = createGraphClient(config, { usage: graphUsage, onUsage: recordGraphUsage });
  return {
    ...createOnboardingGraphActivities(graph, deriveSealingKey(config.meta.appSecret)),
    ...createBusinessIntentActivities(client),
    ...createDiscoveryActivities(graph, client, config, eagerStarter),
    ...createPartnerCallbackActivities({ callback: config.partnerCallback }),
    ...createInsightsActivities(graph, deriveSealingKey(config.meta.appSecret)),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** The gauge operators alert on before Meta throttles (docs/operations.md, "What to alert on"); exported by the worker's runtime. */
export const GRAPH_USAGE_METRIC = 'mm_graph_usage_percent';

/** Meta's usage figure of the business just called, through the activity's Temporal metric meter. */
function recordGraphUsage(percent: number): void {
  let meter;
  try {
    meter = Context.current().metricMeter;
  } catch {
    return; // not inside an activity (the client used on its own)
  }
  meter.createGauge(GRAPH_USAGE_METRIC, 'float', '%', "Highest share of a business's Graph allowance Meta reported on the last call").set(percent);
}
