/**
 * How each kind of run is started, shared by everything that starts one (the API, the webhook
 * receiver, the discovery's activities, the schedule's workflow): its id, input, the search
 * attributes that make it filterable before its first task, and a summary for the Web UI.
 */
import type { DiscoveryInput } from './discovery-types';
import { discoveryWorkflowId } from './discovery-types';
import { BusinessIdKey, DiscoveryStatusKey, OnboardingPathKey, OnboardingStatusKey, WabaIdKey } from '../temporal/search-attributes';
import { onboardingWorkflowId, type OnboardingInput, type OnboardingStatus } from './types';
import { ONBOARDING_RUN_BOUND } from './history-bounds';

export function onboardingStartOptions(input: OnboardingInput, config: { temporal: { taskQueue: string } }) {
  return {
    workflowId: onboardingWorkflowId(input.wabaId),
    taskQueue: config.temporal.taskQueue,
    args: [{ ...input, historyBound: input.historyBound ?? ONBOARDING_RUN_BOUND }] as [OnboardingInput],
    typedSearchAttributes: [
      { key: OnboardingStatusKey, value: 'CHECKING_ELIGIBILITY' satisfies OnboardingStatus },
      { key: WabaIdKey, value: input.wabaId },
      { key: BusinessIdKey, value: input.businessId },
      { key: OnboardingPathKey, value: input.path },
    ],
    staticSummary: `MM API onboarding of WABA ${input.wabaId} (business ${input.businessId}) via ${input.path}, from ${input.origin ?? 'api'}`,
  };
}

/** Without a task queue: the API adds its configured one, the schedule's workflow its own. */
export function discoveryStartOptions(input: DiscoveryInput) {
  return {
    workflowId: discoveryWorkflowId(input.businessId),
    args: [input] as [DiscoveryInput],
    typedSearchAttributes: [
      { key: DiscoveryStatusKey, value: 'RUNNING' },
      { key: BusinessIdKey, value: input.businessId },
      { key: OnboardingPathKey, value: input.path },
    ],
    staticSummary: `Discovery of the ELIGIBLE client WABAs of business portfolio ${input.businessId}, onboarded via ${input.path}`,
  };
}
