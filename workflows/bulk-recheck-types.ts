/**
 * A bulk recheck's vocabulary (POST /v1/rechecks, docs/api.md, "POST /v1/rechecks"): every onboarding parked
 * in NEEDS_ATTENTION of a business, of a reason kind, or both, rechecked in one call, at a bounded
 * pace, each WABA's daily read budget kept (the onboarding's own recheck validator refuses a WABA
 * whose budget is spent). Pure: the workflow, its activity and the API import it.
 */
import { BusinessIdKey, OnboardingReasonKindKey, OnboardingStatusKey } from '../temporal/search-attributes';
import { ATTENTION_KINDS, type AttentionKind } from './attention-kinds';

export interface BulkRecheckFilter {
  businessId?: string;
  reasonKind?: AttentionKind;
}

export const BULK_RECHECK_STATUSES = Object.freeze(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const);
export type BulkRecheckStatus = (typeof BULK_RECHECK_STATUSES)[number];

/** Rechecks asked per second at most, across the whole bulk recheck: the Graph reads they cause follow at GRAPH_MAX_RPS. */
export const BULK_RECHECKS_PER_SECOND = 10;
/** Parked onboardings listed (and rechecked) per activity. */
export const BULK_RECHECK_PAGE_SIZE = 50;

export interface BulkRecheckInput extends BulkRecheckFilter {
  /** The parked onboardings the filter matched when the API was asked (visibility, a moment behind). */
  matched: number;
  /** Set only by the workflow itself when it continues as new. */
  carriedOver?: { state: BulkRecheckState; pageToken?: string };
}

export interface BulkRecheckState extends BulkRecheckFilter {
  id: string;
  status: BulkRecheckStatus;
  matched: number;
  /** Parked onboardings found so far; each is counted once in asked, refused, skipped or failed. */
  listed: number;
  /** The onboarding accepted the recheck: it reads Meta's status now and leaves NEEDS_ATTENTION if the cause is fixed. */
  asked: number;
  /** The onboarding refused it: its daily budget of status reads is spent (or it ended). */
  refused: number;
  /** Its run ended between the listing and the recheck. */
  skipped: number;
  /** Temporal did not take the recheck in time (e.g. no worker of the run's build polling): recheck those again later. */
  failed: number;
  startedAt: string;
  completedAt?: string;
  error?: string;
}

/** What one page of rechecks came to. */
export interface RecheckPageOutcome {
  listed: number;
  asked: number;
  refused: number;
  skipped: number;
  failed: number;
  /** The visibility page token of the next page (base64), absent after the last. */
  nextPageToken?: string;
}

/** One bulk recheck per filter at a time: asking again while it runs joins it. */
export const bulkRecheckWorkflowId = ({ businessId, reasonKind }: BulkRecheckFilter) => `mm-recheck:${businessId ?? 'all'}:${reasonKind ?? 'all'}`;
/** What a bulk recheck id looks like, as a RegExp source (a module-level RegExp would be mutable state). */
export const BULK_RECHECK_ID_SOURCE = `^mm-recheck:(all|\\d{1,32}):(all|${ATTENTION_KINDS.join('|')})$`;

/** The running onboardings parked in NEEDS_ATTENTION that the filter covers (values validated: digits and a closed list). */
export function parkedOnboardingsQuery({ businessId, reasonKind }: BulkRecheckFilter): string {
  const clauses = [`WorkflowType = 'onboarding'`, `ExecutionStatus = 'Running'`, `${OnboardingStatusKey.name} = 'NEEDS_ATTENTION'`];
  if (businessId !== undefined) {
    if (!/^\d{1,32}$/.test(businessId)) throw new Error(`not a business id: ${JSON.stringify(businessId)}`);
    clauses.push(`${BusinessIdKey.name} = '${businessId}'`);
  }
  if (reasonKind !== undefined) {
    if (!ATTENTION_KINDS.includes(reasonKind)) throw new Error(`not a reason kind: ${JSON.stringify(reasonKind)}`);
    clauses.push(`${OnboardingReasonKindKey.name} = '${reasonKind}'`);
  }
  return clauses.join(' AND ');
}

export function newBulkRecheckState(input: BulkRecheckInput, startedAt: string): BulkRecheckState {
  return {
    id: bulkRecheckWorkflowId(input),
    ...(input.businessId !== undefined ? { businessId: input.businessId } : {}),
    ...(input.reasonKind !== undefined ? { reasonKind: input.reasonKind } : {}),
    status: 'RUNNING',
    matched: input.matched,
    listed: 0,
    asked: 0,
    refused: 0,
    skipped: 0,
    failed: 0,
    startedAt,
  };
}
