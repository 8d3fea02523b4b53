/**
 * Which WABAs a discovery has already listed, so pages that overlap count and start each once.
 * Meta's cursor paging lists each WABA once; a slipped cursor (the sandbox's `slipped_cursor`) makes a
 * page repeat rows of the page before it. So only the last pages' ids are kept: what a run carries
 * into the next stays at two pages' ids however many WABAs the portfolio has (every id listed was
 * 1.9 MB at 100k WABAs, past Temporal's 2 MB payload limit at ~110k). A WABA listed again further on
 * would be counted again, and its start is idempotent by workflow id (`alreadyRunning`). Pure.
 */
import type { DiscoveredWaba, DiscoveryCarriedOver } from './discovery-types';

/** Pages whose ids are kept: the page a slipped cursor repeats, and the current one. */
const PAGES_KEPT = 2;

export class ListedIds {
  private constructor(
    /** The ids of each page kept, oldest first. */
    private pages: string[][],
    private readonly pageSize: number,
  ) {}

  /** From what the previous run handed over; of an earlier build's every id listed, the last two pages' worth. */
  static carriedOver(carried: DiscoveryCarriedOver | undefined, pageSize: number): ListedIds {
    const ids = carried?.seen?.slice(-PAGES_KEPT * pageSize) ?? [];
    return new ListedIds(ids.length ? [ids] : [], pageSize);
  }

  /** The page's WABAs not listed by the pages kept (nor earlier on this page); the page is kept from now on. */
  fresh(wabas: DiscoveredWaba[]): DiscoveredWaba[] {
    const known = new Set(this.pages.flat());
    const fresh = wabas.filter((w) => !known.has(w.wabaId) && known.add(w.wabaId));
    this.pages = [...this.pages, wabas.map((w) => w.wabaId)].slice(-PAGES_KEPT);
    return fresh;
  }

  /** What the next run needs: the ids of the pages kept, at most PAGES_KEPT pages' worth. */
  recent(): string[] {
    return this.pages.flat().slice(-PAGES_KEPT * this.pageSize);
  }
}
