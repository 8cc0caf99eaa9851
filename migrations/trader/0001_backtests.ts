/**
 * Trader's backtests, in Trader's own schema (the migrator runs inside it; names are qualified so
 * that Trader's queries never depend on the search path). A run's row carries what lists show;
 * its result lives apart, with the equity curve as raw float64 columns (little-endian): a
 * million-bar curve is 24 MB of bytes instead of some 60 MB of JSON text to write and parse.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  `CREATE TABLE IF NOT EXISTS trader.backtests (
     id serial PRIMARY KEY,
     status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
     strategy text NOT NULL,
     version integer NOT NULL,
     provider text NOT NULL,
     from_ts timestamptz NOT NULL,
     to_ts timestamptz NOT NULL,
     params jsonb NOT NULL,
     initial_cash double precision NOT NULL,
     inputs jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     started_at timestamptz,
     finished_at timestamptz,
     progress_done bigint NOT NULL DEFAULT 0,
     progress_total bigint NOT NULL DEFAULT 0,
     message text,
     statistics jsonb)`,
  "CREATE INDEX IF NOT EXISTS backtests_created_idx ON trader.backtests (created_at DESC, id DESC)",
  `CREATE INDEX IF NOT EXISTS backtests_unfinished_idx
     ON trader.backtests (id) WHERE status IN ('queued', 'running')`,
  `CREATE TABLE IF NOT EXISTS trader.backtest_results (
     backtest_id integer PRIMARY KEY REFERENCES trader.backtests (id) ON DELETE CASCADE,
     -- The result without its equity columns.
     result jsonb NOT NULL,
     equity_ts bytea NOT NULL,
     equity bytea NOT NULL,
     benchmark bytea NOT NULL)`
]

export const backtests: Migration = {
  id: 1,
  name: "backtests",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
