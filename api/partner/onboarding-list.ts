/**
 * Listing onboardings through Temporal visibility, from the search attributes and the memo the
 * workflow keeps up to date: no per-row query, so a page costs one call whatever its size.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { defaultPayloadConverter, type Client, type Payload } from '@temporalio/client';
import {
  BusinessIdKey,
  OnboardingPathKey,
  OnboardingReasonKindKey,
  OnboardingStatusKey,
  OnboardingStatusSinceKey,
  WabaIdKey,
} from '../../temporal/search-attributes';
import type { AttentionKind } from '../../workflows/attention-kinds';
import { olderThanCutoff } from './older-than';
import type { ListSort } from './schemas';
import { triageFields, type TriageFields } from './onboarding-triage-fields';
import { ONBOARDING_PATHS, ONBOARDING_STATUSES, type OnboardingPath, type OnboardingStatus } from '../../workflows/types';
import { ApiError } from '../http/errors';

export const ONBOARDING_WORKFLOW_TYPE = 'onboarding';

export interface ListFilter {
  status?: OnboardingStatus;
  businessId?: string;
  path?: OnboardingPath;
  /** NEEDS_ATTENTION onboardings of this reason kind. */
  reasonKind?: AttentionKind;
  /** In their status since before this: a duration ago or a timestamp (older-than.ts). */
  olderThan?: string;
  sort?: ListSort;
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

type Within = <T>(call: () => Promise<T>) => Promise<T>;
type Execution = Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>['executions'][number];

/** Visibility has no ORDER BY on SQL stores: a sorted list is sorted here, from one listing of at most this many. */
export const SORTED_LIST_MAX = 1_000;
/** An export reads Temporal's pages of this many (its ceiling), at most EXPORT_MAX_PAGES of them. */
const EXPORT_PAGE_SIZE = 1_000;
const EXPORT_MAX_PAGES = 1_000;

/**
 * One page. The raw list call is used (not `client.workflow.list`) because partners page with an
 * opaque token across requests: Temporal's own token (or, sorted, the offset), signed (see
 * `issuePageToken`), with the moment a duration `olderThan` was taken at on the first page, so every
 * page of a listing filters on the same cutoff.
 */
export async function listOnboardings(client: Client, namespace: string, filter: ListFilter, tokenKey: Buffer, within: Within): Promise<OnboardingPage> {
  const scope = tokenScope(filter);
  const cursor = filter.pageToken === undefined ? undefined : readCursor(openPageToken(tokenKey, scope, filter.pageToken), filter);
  const cutoff = cursor?.cutoff ?? cutoffOf(filter);
  const query = visibilityQuery({ ...filter, cutoff });
  if (filter.sort) {
    const rows = await sortedRows(client, namespace, query, filter.sort, within);
    const offset = cursor?.offset ?? 0;
    const next = offset + filter.pageSize;
    const onboardings = rows.slice(offset, next);
    return next < rows.length ? { onboardings, nextPageToken: issuePageToken(tokenKey, scope, writeCursor(filter, cutoff, offsetBytes(next))) } : { onboardings };
  }
  const temporalToken = cursor?.temporalToken;
  const response = await within(() =>
    client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: filter.pageSize, nextPageToken: temporalToken }),
  ).catch((err: unknown) => {
    // A token we issued that Temporal no longer takes (e.g. its visibility store changed).
    if ((err as { code?: unknown }).code === GRPC_INVALID_ARGUMENT && temporalToken) throw badPageToken('has expired');
    throw err;
  });
  const onboardings = response.executions.map(rowOf);
  const token = response.nextPageToken?.length ? issuePageToken(tokenKey, scope, writeCursor(filter, cutoff, response.nextPageToken)) : undefined;
  return token ? { onboardings, nextPageToken: token } : { onboardings };
}

/**
 * Every onboarding the filter matches, row by row, through all of Temporal's pages (or, sorted, the
 * one sorted listing): the NDJSON export. `write` is awaited, so a slow reader paces the reading.
 */
export async function exportOnboardings(
  client: Client,
  namespace: string,
  filter: Omit<ListFilter, 'pageSize' | 'pageToken'>,
  within: Within,
  write: (row: OnboardingSummary) => Promise<void>,
  pageSize = EXPORT_PAGE_SIZE,
): Promise<void> {
  const query = visibilityQuery({ ...filter, cutoff: cutoffOf(filter) });
  if (filter.sort) {
    for (const row of await sortedRows(client, namespace, query, filter.sort, within)) await write(row);
    return;
  }
  let nextPageToken: Uint8Array | undefined;
  // Ceiling: EXPORT_MAX_PAGES pages of EXPORT_PAGE_SIZE (a million onboardings), each under the Temporal deadline.
  for (let page = 0; page < EXPORT_MAX_PAGES; page++) {
    const response = await within(() => client.workflowService.listWorkflowExecutions({ namespace, query, pageSize, nextPageToken }));
    for (const execution of response.executions) await write(rowOf(execution));
    if (!response.nextPageToken?.length) return;
    nextPageToken = response.nextPageToken;
  }
}

/** The filter's onboardings sorted by statusSince, from one listing; more than SORTED_LIST_MAX is a 400 naming `sort`. */
async function sortedRows(client: Client, namespace: string, query: string, sort: ListSort, within: Within): Promise<OnboardingSummary[]> {
  const response = await within(() => client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: SORTED_LIST_MAX }));
  if (response.nextPageToken?.length) {
    const message = `more than ${SORTED_LIST_MAX} onboardings match; narrow the filters (status, reasonKind, businessId, olderThan) to sort, or leave sort out`;
    throw new ApiError(400, 'invalid_request', `sort: ${message}`, [{ in: 'query', path: 'sort', message }]);
  }
  const rows = response.executions.map(rowOf);
  const since = (r: OnboardingSummary) => r.statusSince ?? '';
  rows.sort((a, b) => (since(a) < since(b) ? -1 : since(a) > since(b) ? 1 : a.wabaId < b.wabaId ? -1 : 1));
  return sort === 'statusSince' ? rows : rows.reverse();
}

function rowOf(execution: Execution): OnboardingSummary {
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
}

/** The cutoff `olderThan` names now (validated by the schema). */
function cutoffOf(filter: Pick<ListFilter, 'olderThan'>): number | undefined {
  return filter.olderThan === undefined ? undefined : olderThanCutoff(filter.olderThan, Date.now());
}

/**
 * What a page token is bound to: the filters as given. A listing without olderThan or sort is bound to
 * its visibility query alone, as tokens were before those filters existed.
 */
function tokenScope(filter: ListFilter): string {
  const base = visibilityQuery({ status: filter.status, businessId: filter.businessId, path: filter.path, reasonKind: filter.reasonKind });
  return `${base}${filter.olderThan !== undefined ? `\0olderThan=${filter.olderThan}` : ''}${filter.sort ? `\0sort=${filter.sort}` : ''}`;
}

/** A token's cursor: [the cutoff, 8 bytes, when olderThan is given] ‖ Temporal's token, or (sorted) the next offset. */
function writeCursor(filter: ListFilter, cutoff: number | undefined, rest: Uint8Array): Buffer {
  if (filter.olderThan === undefined) return Buffer.from(rest);
  const at = Buffer.alloc(8);
  at.writeBigInt64BE(BigInt(Math.round(cutoff ?? 0)));
  return Buffer.concat([at, rest]);
}

function readCursor(bytes: Buffer, filter: ListFilter): { cutoff?: number; temporalToken?: Buffer; offset?: number } {
  const withCutoff = filter.olderThan !== undefined;
  if (withCutoff && bytes.length < 8) throw badPageToken('is not a token this service issued for these filters');
  const cutoff = withCutoff ? Number(bytes.readBigInt64BE(0)) : undefined;
  const rest = withCutoff ? bytes.subarray(8) : bytes;
  if (!filter.sort) {
    if (!rest.length) throw badPageToken('is not a token this service issued for these filters');
    return { cutoff, temporalToken: rest };
  }
  if (rest.length !== 4) throw badPageToken('is not a token this service issued for these filters');
  return { cutoff, offset: rest.readUInt32BE(0) };
}

function offsetBytes(offset: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(offset);
  return b;
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
 * The visibility query. Every value in it has been validated by zod (statuses, paths and reason kinds
 * from their closed lists, ids as digits) or computed here (the cutoff), so nothing a caller typed can
 * change the query's meaning.
 */
export function visibilityQuery(filter: {
  status?: OnboardingStatus;
  businessId?: string;
  path?: OnboardingPath;
  reasonKind?: AttentionKind;
  /** In the status since before this (epoch ms). */
  cutoff?: number;
}): string {
  const clauses = [
    `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'`,
    // A run that continued as new is the same onboarding as its successor: list it once.
    `ExecutionStatus != 'ContinuedAsNew'`,
  ];
  if (filter.status) clauses.push(`${OnboardingStatusKey.name} = '${filter.status}'`);
  if (filter.businessId) clauses.push(`${BusinessIdKey.name} = '${filter.businessId}'`);
  if (filter.path) clauses.push(`${OnboardingPathKey.name} = '${filter.path}'`);
  // Written only while parked, so the kind alone says NEEDS_ATTENTION.
  if (filter.reasonKind) clauses.push(`${OnboardingStatusKey.name} = 'NEEDS_ATTENTION' AND ${OnboardingReasonKindKey.name} = '${filter.reasonKind}'`);
  if (filter.cutoff !== undefined) {
    const at = new Date(filter.cutoff).toISOString();
    // A run still in its first status has no OnboardingStatusSince yet: its start is when it entered it.
    clauses.push(`(${OnboardingStatusSinceKey.name} < '${at}' OR (${OnboardingStatusSinceKey.name} IS NULL AND StartTime < '${at}'))`);
  }
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
