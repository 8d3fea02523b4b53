/**
 * Which phone numbers belong to which WABA, for the send gate: a send names a `phoneNumberId` and a
 * WABA, and the WABA's readiness says nothing about a number of another WABA. The numbers come from
 * Graph's `/<WABA_ID>/phone_numbers` (the read the onboarding's Cloud API number check makes), kept
 * in this process's memory: a number not in it (a number added since, or one of another WABA) makes
 * one fresh read, shared by concurrent sends and at most one per REREAD_FLOOR_MS per WABA, so a
 * stream of foreign numbers costs Graph little. A failed read is remembered for that interval too
 * (sends in it are answered its 502 without asking Graph again), and it never costs the numbers
 * already known: they are trusted for KNOWN_FOR_MS from the read that saw them, whatever reads since.
 */
import { GraphApiError, type GraphClient } from '../../graph';
import { ApiError } from '../http/errors';

/** A known number is trusted this long; then the list is read again (numbers move between WABAs rarely). */
const KNOWN_FOR_MS = 10 * 60_000;
/** An unknown number re-reads the list at most this often per WABA, whether the last read worked or failed. */
const REREAD_FLOOR_MS = 2_000;
/** WABAs remembered; the least recently read goes first. */
const MAX_WABAS = 10_000;

interface Numbers {
  /** The numbers of the last read that worked, and when that read started. */
  known: ReadonlySet<string>;
  knownAt: number;
  /** The latest read (in flight, answered or failed), and when it started. */
  latest: Promise<ReadonlySet<string>>;
  latestAt: number;
}

export class WabaPhoneNumbers {
  private readonly byWaba = new Map<string, Numbers>();

  constructor(private readonly graph: GraphClient) {}

  /** Resolves when `phoneNumberId` is one of the WABA's numbers; else a 400 naming `phoneNumberId`. */
  async check(wabaId: string, phoneNumberId: string): Promise<void> {
    const now = Date.now();
    let entry = this.byWaba.get(wabaId);
    if (entry && now - entry.knownAt < KNOWN_FOR_MS && entry.known.has(phoneNumberId)) return;
    if (!entry || now - entry.latestAt >= REREAD_FLOOR_MS) entry = this.read(wabaId, now, entry);
    let ids: ReadonlySet<string>;
    try {
      ids = await entry.latest;
    } catch (err) {
      if (!(err instanceof GraphApiError)) throw err;
      throw new ApiError(502, 'graph_error', `could not read the WABA's phone numbers to check phoneNumberId: ${err.message}`, {
        code: err.code ?? null,
        subcode: err.subcode ?? null,
      });
    }
    if (!ids.has(phoneNumberId)) {
      const message = `is not a phone number of WABA ${wabaId}`;
      throw new ApiError(400, 'invalid_request', `invalid request: body.phoneNumberId ${message}`, [{ in: 'body', path: 'phoneNumberId', message }]);
    }
  }

  private read(wabaId: string, now: number, entry: Numbers | undefined): Numbers {
    const latest = this.graph.listPhoneNumbers(wabaId).then((numbers) => new Set(numbers.map((n) => n.id)));
    const numbers: Numbers = entry ?? { known: new Set(), knownAt: 0, latest, latestAt: now };
    numbers.latest = latest;
    numbers.latestAt = now;
    void latest.then(
      (ids) => {
        if (now < numbers.knownAt) return; // a later read answered first
        numbers.known = ids;
        numbers.knownAt = now;
      },
      () => undefined, // a failure stays the latest read until REREAD_FLOOR_MS has passed; the known numbers stay
    );
    this.byWaba.delete(wabaId); // most recently read last
    this.byWaba.set(wabaId, numbers);
    if (this.byWaba.size > MAX_WABAS) this.byWaba.delete(this.byWaba.keys().next().value!);
    return numbers;
  }
}
