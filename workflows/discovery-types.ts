/**
 * A discovery's vocabulary (the partner API's "Discoveries"), defined once. Pure: imported by the
 * discovery workflows, the activities and the API alike.
 */
import type { CloudApiNumbers, OnboardingOptions, OnboardingPath } from './types';

/**
 * CANCELLED: cancelled (its counts say how far it got). TERMINATED and TIMED_OUT are read from the
 * closed execution (the run could not say so itself).
 */
export const DISCOVERY_STATUSES = Object.freeze(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const);
export type DiscoveryStatus = (typeof DISCOVERY_STATUSES)[number];

/** The only status a discovery looks for (the seed's filter). */
export const DISCOVERABLE_STATUS = 'ELIGIBLE';

/** Meta's `limit` per page of client WABAs. */
export const DEFAULT_DISCOVERY_PAGE_SIZE = 100;

/** The shortest interval of a repeating discovery. */
export const MIN_REPEAT_EVERY_SECONDS = 3600;

export interface DiscoveryInput {
  /** The partner's business portfolio, whose `client_whatsapp_business_accounts` lists its customers' WABAs. */
  businessId: string;
  path: OnboardingPath;
  /** Passed on to every onboarding the discovery starts. */
  options?: OnboardingOptions;
  /** Client WABAs per Graph page; default 100. */
  pageSize?: number;
  /** Set only by the workflow itself when it continues as new. */
  carriedOver?: DiscoveryCarriedOver;
}

/** What a discovery's run hands the next: a contract between builds (docs/versioning.md). */
export interface DiscoveryCarriedOver {
  state: DiscoveryState;
  /** The cursor of the next page. */
  after?: string;
  /**
   * The ids the last pages listed (workflows/discovery-listed.ts): at most two pages' worth. Builds
   * before the bounded carry-over handed over every id listed here (1.9 MB at 100k WABAs); from such
   * a run the last ids serve. Either way, a build of either kind reads it as the ids to list once.
   */
  seen?: string[];
}

export interface DiscoveryState {
  id: string;
  businessId: string;
  path: OnboardingPath;
  status: DiscoveryStatus;
  /** Graph pages read. */
  pages: number;
  /** ELIGIBLE WABAs listed, each id once however often overlapping pages (a slipped cursor) repeat it; every one is counted once in started, alreadyRunning or failed. */
  found: number;
  started: number;
  /** An onboarding was already running for the WABA: left alone. */
  alreadyRunning: number;
  failed: number;
  startedAt: string;
  completedAt?: string;
  error?: string;
  /** The Temporal Schedule that repeats this discovery, when there is one. */
  schedule?: { id: string; everySeconds: number };
}

/** A WABA the discovery found, under the end business that owns it. */
export interface DiscoveredWaba {
  wabaId: string;
  businessId: string;
  /** Its numbers, when the list's first page of them settles the Cloud API check. */
  numbers?: CloudApiNumbers;
}

/** What starting one page's onboardings came to; the three add up to the page's WABAs. */
export interface PageStartOutcome {
  started: number;
  alreadyRunning: number;
  failed: number;
  /** Of the started, those whose first task came back with the start (eager start); absent when none. */
  eagerlyStarted?: number;
}

export const discoveryWorkflowId = (businessId: string) => `mm-discovery:${businessId}`;
export const discoveryScheduleId = (businessId: string) => `mm-discovery-schedule:${businessId}`;
/** The schedule's own runs (Temporal appends the scheduled time); each starts the discovery. */
export const repeatDiscoveryWorkflowId = (businessId: string) => `mm-discovery-repeat:${businessId}`;

/** A discovery before its first page. */
export function newDiscoveryState(input: Pick<DiscoveryInput, 'businessId' | 'path'>, startedAt: string): DiscoveryState {
  return {
    id: discoveryWorkflowId(input.businessId),
    businessId: input.businessId,
    path: input.path,
    status: 'RUNNING',
    pages: 0,
    found: 0,
    started: 0,
    alreadyRunning: 0,
    failed: 0,
    startedAt,
  };
}
