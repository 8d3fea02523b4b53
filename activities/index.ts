import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createGraphClient } from '../graph';
import { createOnboardingGraphActivities } from './onboarding-graph';
import { createBusinessIntentActivities } from './business-intent';
import { createPartnerCallbackActivities } from './partner-callbacks';
import { deriveSealingKey } from '../secrets/sealing';

/** Every activity the worker registers, built once from the config. */
export function createActivities(config: Config, client: Client) {
  const graph = createGraphClient(config);
  return {
    ...createOnboardingGraphActivities(graph, deriveSealingKey(config.meta.appSecret)),
    ...createBusinessIntentActivities(client),
    ...createPartnerCallbackActivities({ callback: config.partnerCallback }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
