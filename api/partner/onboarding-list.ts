/**
 * Listing onboardings through Temporal visibility, from the search attributes and the memo the
 * workflow keeps up to date: no per-row query, so a page costs one call whatever its size.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { defaultPayloadConverter, type Client, type Payload } from '@temporalio/client';
import { BusinessIdKey, OnboardingPathKey, OnboardingStatusKey, WabaIdKey } from '../../temporal/search-attributes';
import { triageFields, type TriageFields } from './onboarding-triage-fields';
import { ONBOARDING_PATHS, ONBOARDING_STATUSES, type OnboardingPath, type OnboardingStatus } from '../../workflows/types';
import { ApiError } from '../http/errors';

export const ONBOARDING_WORKFLOW_TYPE = 'onboarding';

export interface ListFilter {
  status?: OnboardingStatus;
  businessId?: string;
  path?: OnboardingPath;
  pageSize: number;
  pageToken?: string;
}

export interface OnboardingSummary extends TriageFields {
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
 * opaque token across requests: Temporal's own token, signed (see `issuePageToken`).
 */
export async function listOnboardings(
  client: Client,
  namespace: string,
  filter: ListFilter,
  tokenKey: Buffer,
  within: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<OnboardingPage> {
  const query = visibilityQuery(filter);
  const temporalToken = filter.pageToken === undefined ? undefined : openPageToken(tokenKey, query, filter.pageToken);
  const response = await within(() =>
    client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: filter.pageSize, nextPageToken: temporalToken }),
  ).catch((err: unknown) => {
    // A token we issued that Temporal no longer takes (e.g. its visibility store changed).
    if ((err as { code?: unknown }).code === GRPC_INVALID_ARGUMENT && temporalToken) throw badPageToken('has expired');
    throw err;
  });
  const onboardings = response.executions.map((execution): OnboardingSummary => {
    const fields = execution.searchAttributes?.indexedFields ?? {};
    const workflowId = execution.execution?.workflowId ?? '';
    const status = oneOf(ONBOARDING_STATUSES, keyword(fields, OnboardingStatusKey.name));
    const startTime = timestampToIso(execution.startTime);
    return {
      wabaId: keyword(fields, WabaIdKey.name) ?? workflowId.replace(/^mm-onboarding:/, ''),
      businessId: keyword(fields, BusinessIdKey.name),
      path: oneOf(ONBOARDING_PATHS, keyword(fields, OnboardingPathKey.name)),
      status,
      ...triageFields(fields, execution.memo?.fields ?? {}, status, startTime),
      workflowStatus: EXECUTION_STATUS_NAMES[execution.status ?? 0] ?? 'UNKNOWN',
      startTime,
    };
  });
  const token = response.nextPageToken?.length ? issuePageToken(tokenKey, query, response.nextPageToken) : undefined;
  return token ? { onboardings, nextPageToken: token } : { onboardings };
}

const GRPC_INVALID_ARGUMENT = 3;

/*
 * Page tokens. Temporal reads whatever bytes it is given as a token (a forged one kept a list call
 * busy until its deadline: a 503 for a caller's mistake), so the token handed out carries a MAC over
 * Temporal's token and the filter it pages through. A forged, damaged or borrowed token is refused
 * with 400 before Temporal is asked.
 */
const MAC_BYTES = 16;

/** The key page tokens are signed with, derived from the app secret and used for nothing else. */
export function pageTokenKey(appSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, 'mm-onboarding/page-token/salt/v1', 'mm-onboarding/page-token/v1', 32));
}

function pageTokenMac(key: Buffer, query: string, temporalToken: Uint8Array): Buffer {
  return createHmac('sha256', key).update(query).update('\0').update(temporalToken).digest().subarray(0, MAC_BYTES);
}

/** base64url(MAC ‖ Temporal's token). */
export function issuePageToken(key: Buffer, query: string, temporalToken: Uint8Array): string {
  return Buffer.concat([pageTokenMac(key, query, temporalToken), temporalToken]).toString('base64url');
}

/** Temporal's token inside a page token this service issued for the same filter, or a 400. */
export function openPageToken(key: Buffer, query: string, pageToken: string): Buffer {
  const bytes = Buffer.from(pageToken, 'base64url');
  if (bytes.length <= MAC_BYTES) throw badPageToken('is not a token this service issued');
  const temporalToken = bytes.subarray(MAC_BYTES);
  if (!timingSafeEqual(bytes.subarray(0, MAC_BYTES), pageTokenMac(key, query, temporalToken))) {
    throw badPageToken('is not a token this service issued for these filters');
  }
  return temporalToken;
}

function badPageToken(problem: string): ApiError {
  return new ApiError(400, 'invalid_request', `pageToken ${problem}: pass the nextPageToken of the previous page, with the same filters`, [
    { in: 'query', path: 'pageToken', message: problem },
  ]);
}

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

/** A keyword search attribute's value from a visibility row. */
export function keyword(fields: Record<string, Payload>, name: string): string | undefined {
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
