/**
 * `live_data` holds each series' forming bar, rewritten many times a second while a feed is busy.
 * With free space left on every page (fillfactor 50) those updates are HOT: the new row version
 * goes on the same page and no index entry is written, so the table and its primary key stay
 * small and an update costs a fraction of a non-HOT one. History is append-mostly and keeps the
 * default. The same statement runs on TimescaleDB, where live_data is a hypertable.
 */
import type { Migration } from "@quasar/server"

export const liveFillfactor: Migration = {
  id: 6,
  name: "live_fillfactor",
  up: ({ exec }) => exec("ALTER TABLE live_data SET (fillfactor = 50)")
}
