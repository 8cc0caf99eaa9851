/** The seed's six tables plus the change log that carries notifications in every database mode. */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  `CREATE TABLE IF NOT EXISTS code_registry (
     name text NOT NULL,
     kind text NOT NULL CHECK (kind IN ('provider', 'broker')),
     version integer NOT NULL CHECK (version > 0),
     sha256 text NOT NULL,
     source text NOT NULL,
     size integer NOT NULL,
     manifest jsonb,
     status text NOT NULL DEFAULT 'uploaded'
       CHECK (status IN ('uploaded', 'valid', 'invalid', 'active', 'disabled')),
     validation jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (name, version),
     UNIQUE (name, sha256))`,
  `CREATE TABLE IF NOT EXISTS assets (
     provider text NOT NULL,
     symbol text NOT NULL,
     name text,
     asset_class text NOT NULL DEFAULT 'other',
     base text,
     quote text,
     exchange text,
     currency text,
     isin text,
     status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'delisted')),
     refreshed_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (provider, symbol))`,
  "CREATE INDEX IF NOT EXISTS assets_class_idx ON assets (asset_class, provider)",
  "CREATE INDEX IF NOT EXISTS assets_exchange_idx ON assets (exchange, provider)",
  "CREATE INDEX IF NOT EXISTS assets_isin_idx ON assets (isin) WHERE isin IS NOT NULL",
  `CREATE TABLE IF NOT EXISTS asset_mapping (
     common_symbol text NOT NULL,
     source text NOT NULL,
     source_kind text NOT NULL CHECK (source_kind IN ('provider', 'broker')),
     symbol text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (source, symbol),
     UNIQUE (common_symbol, source))`,
  `CREATE TABLE IF NOT EXISTS provider_subscription (
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
  ...["historical_data", "live_data"].map(
    (table) => `CREATE TABLE IF NOT EXISTS ${table} (
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
  `CREATE TABLE IF NOT EXISTS change_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     channel text NOT NULL,
     payload jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now())`,
  "CREATE INDEX IF NOT EXISTS change_events_created_idx ON change_events (created_at)"
]

export const coreTables: Migration = {
  id: 1,
  name: "core_tables",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
