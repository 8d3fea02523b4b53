import type { Config } from '../config';
import { GraphClient, type GraphClientOptions } from './client';

/** The Graph client the configuration describes (workers and the API's token check alike). */
export function createGraphClient(config: Config, overrides: Partial<GraphClientOptions> = {}): GraphClient {
  return new GraphClient({
    baseUrl: config.graph.baseUrl,
    version: config.graph.version,
    accessToken: config.graph.accessToken,
    appId: config.meta.appId,
    appSecret: config.meta.appSecret,
    ...overrides,
  });
}
