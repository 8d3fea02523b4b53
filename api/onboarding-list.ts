/**
 * Listing onboardings through Temporal visibility, from the search attributes the workflow keeps
 * up to date: no per-row query, so a page costs one call whatever its size.
 */
import { defaultPayloadConverter, type Client, type Payload } from '@temporalio/client';
import { BusinessIdKey, OnboardingPathKey, OnboardingStatusKey, WabaIdKey } from '../workflows/search-attributes';
import { ONBOARDING_PATHS, ONBOARDING_STATUSES, type OnboardingPath, type OnboardingStatus } from '../workflows/types';
import { ApiError } from './errors';

export const ONBOARDING_WORKFLOW_TYPE = 'onboarding';

export interface ListFilter {
  status?: OnboardingStatus;
  businessId?: string;
  path?: OnboardingPath;
  pageSize: number;
  pageToken?: string;
}

export interface OnboardingSummary {
  wabaId: string;
  businessId?: string;
  path?: OnboardingPath;
  status?: OnboardingStatus;
  workflowStatus: string;
  startTime?: string;
}

export interface OnboardingPage {
  onboardings: OnboardingSummary[];
  nextPageToken?: string;
}

/**
 * One page. The raw list call is used (not `client.workflow.list`) because partners page with an
 * opaque token across requests; the token is Temporal's own, base64url-encoded.
 */
export async function listOnboardings(
  client: Client,
  namespace: string,
  filter: ListFilter,
  within: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<OnboardingPage> {
  const response = await within(() =>
    client.workflowService.listWorkflowExecutions({
      namespace,
      query: visibilityQuery(filter),
      pageSize: filter.pageSize,
      nextPageToken: filter.pageToken ? Buffer.from(filter.pageToken, 'base64url') : undefined,
    }),
  ).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === GRPC_INVALID_ARGUMENT && filter.pageToken) {
      throw new ApiError(400, 'invalid_request', 'pageToken is not valid (or has expired)', [
        { in: 'query', path: 'pageToken', message: 'not a token this service issued' },
      ]);
    }
    throw err;
  });
  const onboardings = response.executions.map((execution): OnboardingSummary => {
    const fields = execution.searchAttributes?.indexedFields ?? {};
    const workflowId = execution.execution?.workflowId ?? '';
    return {
      wabaId: keyword(fields, WabaIdKey.name) ?? workflowId.replace(/^mm-onboarding:/, ''),
      businessId: keyword(fields, BusinessIdKey.name),
      path: oneOf(ONBOARDING_PATHS, keyword(fields, OnboardingPathKey.name)),
      status: oneOf(ONBOARDING_STATUSES, keyword(fields, OnboardingStatusKey.name)),
      workflowStatus: EXECUTION_STATUS_NAMES[execution.status ?? 0] ?? 'UNKNOWN',
      startTime: timestampToIso(execution.startTime),
    };
  });
  const token = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64url') : undefined;
  return token ? { onboardings, nextPageToken: token } : { onboardings };
}

const GRPC_INVALID_ARGUMENT = 3;

/**
 * The visibility query. Every value in it has been validated by zod (statuses and paths from their
 * closed lists, ids as digits), so nothing a caller typed can change the query's meaning.
 */
export function visibilityQuery(filter: { status?: OnboardingStatus; businessId?: string; path?: OnboardingPath }): string {
  const clauses = [
    `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'`,
    // A run that continued as new is the same onboarding as its successor: list it once.
    `ExecutionStatus != 'ContinuedAsNew'`,
  ];
  if (filter.status) clauses.push(`${OnboardingStatusKey.name} = '${filter.status}'`);
  if (filter.businessId) clauses.push(`${BusinessIdKey.name} = '${filter.businessId}'`);
  if (filter.path) clauses.push(`${OnboardingPathKey.name} = '${filter.path}'`);
  return clauses.join(' AND ');
}

// temporal.api.enums.v1.WorkflowExecutionStatus, named as the SDK names them.
const EXECUTION_STATUS_NAMES = [
  'UNSPECIFIED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
];

function keyword(fields: Record<string, Payload>, name: string): string | undefined {
  const payload = fields[name];
  if (!payload) return undefined;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}

function timestampToIso(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (!ts || ts.seconds == null) return undefined;
  const ms = Number(String(ts.seconds)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
