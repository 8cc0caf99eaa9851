/**
 * The Registry's tables: code versions (provider, broker and strategy code, one current version
 * per name), per-provider settings with secrets sealed at rest, assets, symbol mappings, and the
 * change log its catalogue watchers long-poll. Each statement also holds on a database whose
 * tables came from `public` (0001) at any earlier state, so they only add what is missing.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  `CREATE TABLE IF NOT EXISTS registry.code_registry (
     name text NOT NULL,
     kind text NOT NULL,
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
  "ALTER TABLE registry.code_registry ADD COLUMN IF NOT EXISTS language text NOT NULL DEFAULT 'javascript'",
  "ALTER TABLE registry.code_registry ADD COLUMN IF NOT EXISTS built_in boolean NOT NULL DEFAULT false",
  // Mappings stay provider and broker only: a strategy has no symbols of its own.
  "ALTER TABLE registry.code_registry DROP CONSTRAINT IF EXISTS code_registry_kind_check",
  `ALTER TABLE registry.code_registry ADD CONSTRAINT code_registry_kind_check
     CHECK (kind IN ('provider', 'broker', 'strategy'))`,
  // At most one version per name is the current one (active, or active-then-disabled).
  `CREATE UNIQUE INDEX IF NOT EXISTS code_registry_current_idx
     ON registry.code_registry (name) WHERE status IN ('active', 'disabled')`,
  `CREATE TABLE IF NOT EXISTS registry.provider_settings (
     name text PRIMARY KEY,
     "values" jsonb NOT NULL DEFAULT '{}',
     -- key → AES-256-GCM envelope; never leaves the server.
     secrets jsonb NOT NULL DEFAULT '{}',
     updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS registry.assets (
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
  "CREATE INDEX IF NOT EXISTS assets_class_idx ON registry.assets (asset_class, provider)",
  "CREATE INDEX IF NOT EXISTS assets_exchange_idx ON registry.assets (exchange, provider)",
  "CREATE INDEX IF NOT EXISTS assets_isin_idx ON registry.assets (isin) WHERE isin IS NOT NULL",
  `CREATE TABLE IF NOT EXISTS registry.asset_mapping (
     common_symbol text NOT NULL,
     source text NOT NULL,
     source_kind text NOT NULL CHECK (source_kind IN ('provider', 'broker')),
     symbol text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (source, symbol),
     UNIQUE (common_symbol, source))`,
  `CREATE TABLE IF NOT EXISTS registry.change_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     channel text NOT NULL,
     payload jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now())`,
  "CREATE INDEX IF NOT EXISTS change_events_created_idx ON registry.change_events (created_at)"
]

export const catalog: Migration = {
  id: 2,
  name: "catalog",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
