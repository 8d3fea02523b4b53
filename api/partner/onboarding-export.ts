/**
 * GET /v1/onboardings as NDJSON (`?format=ndjson`, or `Accept: application/x-ndjson`): every
 * onboarding the filters match, one list row a line, all of visibility's pages streamed as they are
 * read, so a spreadsheet or a script gets the whole work queue in one request. The status line goes
 * out with the first row; a failure after it ends the stream with one `{"error":…}` line.
 */
import type { Request, Response } from 'express';
import { ApiError, toApiError } from '../http/errors';
import type { Logger } from '../http/logger';
import type { OnboardingClient } from './onboarding-client';
import type { ListFilter, OnboardingSummary } from './onboarding-list';

export const NDJSON = 'application/x-ndjson';

/** Whether the caller asked for the export: `format` wins; without it, an Accept that prefers NDJSON to JSON. */
export function wantsExport(req: Request, format: 'json' | 'ndjson' | undefined): boolean {
  if (format) return format === 'ndjson';
  return req.accepts(['application/json', NDJSON]) === NDJSON;
}

export async function streamExport(res: Response, onboardings: Pick<OnboardingClient, 'export'>, filter: ListFilter, log: Logger): Promise<void> {
  if (filter.pageToken !== undefined) {
    const message = 'an export streams every page: leave pageToken out';
    throw new ApiError(400, 'invalid_request', `pageToken: ${message}`, [{ in: 'query', path: 'pageToken', message }]);
  }
  const { pageSize: _pageSize, pageToken: _pageToken, ...matching } = filter;
  const begin = () => {
    if (res.headersSent) return;
    res.status(200).type(NDJSON);
    res.flushHeaders();
  };
  const write = async (row: OnboardingSummary) => {
    begin();
    if (res.destroyed) throw new ClientGone();
    // A slow reader paces the reading: wait for the socket to drain (or close) before the next row.
    if (!res.write(`${JSON.stringify(row)}\n`)) await new Promise<void>((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
  };
  try {
    await onboardings.export(matching, write);
  } catch (err) {
    if (err instanceof ClientGone) return;
    if (!res.headersSent) throw err; // nothing sent yet: the API's ordinary error answer
    const answer = toApiError(err);
    log.warn('onboarding export cut short', { code: answer.code });
    res.end(`${JSON.stringify({ error: { code: answer.code, message: answer.message } })}\n`);
    return;
  }
  begin(); // no onboarding matched: an empty 200
  res.end();
}

class ClientGone extends Error {}
