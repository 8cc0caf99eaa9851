/**
 * Collection bookkeeping for the history scheduler. `collected_until` is the resume point of a
 * subscription: the exclusive end of the range already asked for and committed (bars or none),
 * so a restart never asks for it again. `collection_runs` answers "why are bars missing for X
 * between t1 and t2": every run with its range, rows, retries and error. Runs are keyed by the
 * series as well as the subscription id and have no foreign key, because they must outlive a
 * deleted subscription. `collection_empty_ranges` holds ranges a provider was asked for and
 * returned nothing (market closed, delisted, provider hole), so gap scans do not ask forever.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE provider_subscription ADD COLUMN IF NOT EXISTS collected_until timestamptz",
  `CREATE TABLE IF NOT EXISTS collection_runs (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     subscription_id integer,
     provider text NOT NULL,
     symbol text NOT NULL,
     timeframe text NOT NULL,
     kind text NOT NULL CHECK (kind IN ('backfill', 'update', 'gap')),
     range_from timestamptz NOT NULL,
     range_to timestamptz NOT NULL,
     status text NOT NULL DEFAULT 'running'
       CHECK (status IN ('running', 'ok', 'empty', 'failed', 'interrupted')),
     rows_written integer NOT NULL DEFAULT 0,
     pages integer NOT NULL DEFAULT 0,
     retries integer NOT NULL DEFAULT 0,
     error text,
     started_at timestamptz NOT NULL DEFAULT now(),
     finished_at timestamptz,
     duration_ms integer)`,
  // "What happened to X between t1 and t2" scans by series and range.
  `CREATE INDEX IF NOT EXISTS collection_runs_series_idx
     ON collection_runs (provider, symbol, timeframe, range_from)`,
  "CREATE INDEX IF NOT EXISTS collection_runs_started_idx ON collection_runs (started_at)",
  `CREATE TABLE IF NOT EXISTS collection_empty_ranges (
     provider text NOT NULL,
     symbol text NOT NULL,
     timeframe text NOT NULL,
     range_from timestamptz NOT NULL,
     range_to timestamptz NOT NULL,
     attempts integer NOT NULL DEFAULT 1,
     checked_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (provider, symbol, timeframe, range_from))`
]

export const collection: Migration = {
  id: 5,
  name: "collection",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
