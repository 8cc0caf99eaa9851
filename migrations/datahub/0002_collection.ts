/**
 * DataHub's tables: subscriptions, closed bars (`historical_data`) and forming ones
 * (`live_data`), the collection bookkeeping of the history scheduler, and DataHub's own change
 * log. Each statement also holds on a database whose tables came from `public` (0001) at any
 * earlier state, so they only add what is missing.
 *
 * `collected_until` is a subscription's resume point: the exclusive end of the range already
 * asked for and committed (bars or none), so a restart never asks for it again.
 * `collection_runs` answers "why are bars missing for X between t1 and t2": every run with its
 * range, rows, retries and error, keyed by the series as well as the subscription id and with
 * no foreign key, because runs must outlive a deleted subscription; a running run beats
 * (`heartbeat_at`), so one whose process died is closed as `interrupted` within minutes.
 * `collection_empty_ranges` holds ranges a provider was asked for and returned nothing (market
 * closed, delisted, provider hole), so gap scans do not ask forever.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  `CREATE TABLE IF NOT EXISTS datahub.provider_subscription (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     provider text NOT NULL,
     symbol text NOT NULL,
     timeframe text NOT NULL,
     mode text NOT NULL CHECK (mode IN ('history', 'live', 'both')),
     backfill_from timestamptz,
     status text NOT NULL DEFAULT 'backfilling'
       CHECK (status IN ('backfilling', 'current', 'paused', 'error')),
     last_bar_at timestamptz,
     next_run_at timestamptz,
     last_error text,
     backfill_progress double precision NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (provider, symbol, timeframe))`,
  "ALTER TABLE datahub.provider_subscription ADD COLUMN IF NOT EXISTS collected_until timestamptz",
  ...["historical_data", "live_data"].map(
    (table) => `CREATE TABLE IF NOT EXISTS datahub.${table} (
     provider text NOT NULL,
     symbol text NOT NULL,
     timeframe text NOT NULL,
     ts timestamptz NOT NULL,
     open double precision NOT NULL,
     high double precision NOT NULL,
     low double precision NOT NULL,
     close double precision NOT NULL,
     volume double precision NOT NULL,
     vwap double precision,
     trades integer,
     ingested_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (provider, symbol, timeframe, ts))`
  ),
  // The forming bar is rewritten many times a second while a feed is busy: with free space on
  // every page (fillfactor 50) those updates are HOT (same page, no index entry written), so the
  // table and its key stay small. History is append-mostly and keeps the default. The same
  // statement holds where live_data is a hypertable.
  "ALTER TABLE datahub.live_data SET (fillfactor = 50)",
  `CREATE TABLE IF NOT EXISTS datahub.collection_runs (
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
  "ALTER TABLE datahub.collection_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz",
  // "What happened to X between t1 and t2" scans by series and range.
  `CREATE INDEX IF NOT EXISTS collection_runs_series_idx
     ON datahub.collection_runs (provider, symbol, timeframe, range_from)`,
  "CREATE INDEX IF NOT EXISTS collection_runs_started_idx ON datahub.collection_runs (started_at)",
  `CREATE INDEX IF NOT EXISTS collection_runs_running_idx
     ON datahub.collection_runs (heartbeat_at) WHERE status = 'running'`,
  `CREATE TABLE IF NOT EXISTS datahub.collection_empty_ranges (
     provider text NOT NULL,
     symbol text NOT NULL,
     timeframe text NOT NULL,
     range_from timestamptz NOT NULL,
     range_to timestamptz NOT NULL,
     attempts integer NOT NULL DEFAULT 1,
     checked_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (provider, symbol, timeframe, range_from))`,
  `CREATE TABLE IF NOT EXISTS datahub.change_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     channel text NOT NULL,
     payload jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now())`,
  "CREATE INDEX IF NOT EXISTS change_events_created_idx ON datahub.change_events (created_at)"
]

export const collection: Migration = {
  id: 2,
  name: "collection",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
