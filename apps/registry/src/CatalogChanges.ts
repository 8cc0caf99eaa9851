/**
 * How the Registry answers a wait for catalogue changes, as a pure function of what the change
 * events hold: the counter is the newest event id (it survives restarts, being the table's), a
 * caller behind the oldest kept event or ahead of the newest is told to forget its cache.
 */
import type { CatalogChange, CatalogChanges } from "@quasar/domain"

/** The change feed channels the catalogue covers; the payload's `name` says whose. */
export const CODE_CHANNEL = "code"
export const ASSETS_CHANNEL = "assets"
export const MAPPINGS_CHANNEL = "mappings"
export const CATALOG_CHANNELS: ReadonlyArray<string> = [CODE_CHANNEL, ASSETS_CHANNEL, MAPPINGS_CHANNEL]

export interface ChangeRow {
  readonly id: number
  readonly channel: string
  readonly name: string | null
}

export interface EventsAfter {
  /** Newest and oldest event ids kept (0 when none are). */
  readonly latest: number
  readonly oldest: number
  /** The catalogue's events after the caller's counter, oldest first. */
  readonly rows: ReadonlyArray<ChangeRow>
  /** More events follow the last row. */
  readonly full: boolean
}

const toChange = (row: ChangeRow): CatalogChange => {
  const topic =
    row.channel === ASSETS_CHANNEL ? "assets" : row.channel === MAPPINGS_CHANNEL ? "mappings" : "code"
  return row.name === null || topic === "mappings" ? { topic } : { topic, name: row.name }
}

/**
 * The answer for a caller at `after` (undefined: it knows nothing yet). Events older than a day
 * are pruned, so a caller whose counter is below the oldest kept event may have missed some; a
 * counter above the newest belongs to another database: both reset.
 */
export const answer = (after: number | undefined, events: EventsAfter): CatalogChanges => {
  if (after === undefined || after > events.latest || (events.oldest > after + 1 && after > 0))
    return { cursor: events.latest, reset: true, changes: [] }
  const last = events.rows.at(-1)
  return {
    cursor: events.full && last ? last.id : Math.max(after, events.latest),
    reset: false,
    changes: events.rows.map(toChange)
  }
}
