/**
 * What the activities count on the workers' Prometheus endpoint, through the activity's Temporal
 * metric meter (names: temporal/worker-metrics.ts): Graph errors by endpoint and code, and partner
 * callback delivery attempts by result. Outside an activity (a client used on its own) nothing is counted.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type MetricMeter } from '@temporalio/common';
import { GRAPH_ERRORS_METRIC, PARTNER_CALLBACK_DELIVERIES_METRIC, type PARTNER_CALLBACK_RESULTS } from '../temporal/worker-metrics';
import { FailureType } from '../workflows/failure-types';
import type { PartnerCallbackDelivery, PartnerCallbackEvent } from './partner-callbacks';

function activityMeter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined; // not inside an activity
  }
}

/** The Graph client's `onError`: one failed call. */
export function countGraphError(endpoint: string, code: string): void {
  activityMeter()?.createCounter(GRAPH_ERRORS_METRIC, undefined, 'Graph calls that failed, by endpoint (a path template) and code (Meta\'s, or network, bad_response, http_<status>)').add(1, { endpoint, code });
}

type DeliveryResult = (typeof PARTNER_CALLBACK_RESULTS)[number];

function countDelivery(result: DeliveryResult): void {
  activityMeter()?.createCounter(PARTNER_CALLBACK_DELIVERIES_METRIC, undefined, 'Partner callback delivery attempts, by result (delivered, refused, failed)').add(1, { result });
}

/** The partner-callback activity, each attempt counted by how it ended (an attempt with no URL configured is none). */
export function countedDeliveries<A extends { deliverPartnerCallback(event: PartnerCallbackEvent): Promise<PartnerCallbackDelivery> }>(activities: A): A {
  const deliver = activities.deliverPartnerCallback.bind(activities);
  return {
    ...activities,
    async deliverPartnerCallback(event: PartnerCallbackEvent): Promise<PartnerCallbackDelivery> {
      try {
        const delivery = await deliver(event);
        if (delivery.delivered) countDelivery('delivered');
        return delivery;
      } catch (err) {
        const refused = err instanceof ApplicationFailure && err.type === FailureType.PartnerCallbackRejected;
        countDelivery(refused ? 'refused' : 'failed');
        throw err;
      }
    },
  };
}
