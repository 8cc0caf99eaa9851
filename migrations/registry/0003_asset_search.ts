/**
 * Indexes for asset search on 50,000+ rows. `q` matches symbol or name case-insensitively:
 * contains-search needs trigram GIN indexes (pg_trgm), prefix search a btree with
 * `text_pattern_ops` (plain btrees only serve LIKE 'x%' under the C collation). pg_trgm is a
 * contrib extension: not every server ships it and a role without CREATE on the database may not
 * create it, so it is tried inside a PL/pgSQL block that falls back to the btree indexes alone
 * instead of failing. It goes to `public`, where extensions live for every service (an
 * administrator may have created it there already); its operator class is found through the
 * search path the migrator keeps behind the service's schema.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "CREATE INDEX IF NOT EXISTS assets_symbol_prefix_idx ON registry.assets (lower(symbol) text_pattern_ops)",
  "CREATE INDEX IF NOT EXISTS assets_name_prefix_idx ON registry.assets (lower(name) text_pattern_ops)",
  // The exchange filter is case-insensitive (providers spell venues differently: NASDAQ, Nasdaq).
  "CREATE INDEX IF NOT EXISTS assets_exchange_lower_idx ON registry.assets (lower(exchange))",
  // Unfiltered pages are ordered by symbol; this index serves them without sorting every row.
  "CREATE INDEX IF NOT EXISTS assets_symbol_idx ON registry.assets (symbol, provider)",
  `DO $$
   BEGIN
     IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
       IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
         CREATE EXTENSION pg_trgm SCHEMA public;
       END IF;
       CREATE INDEX IF NOT EXISTS assets_symbol_trgm_idx ON registry.assets USING gin (lower(symbol) gin_trgm_ops);
       CREATE INDEX IF NOT EXISTS assets_name_trgm_idx ON registry.assets USING gin (lower(name) gin_trgm_ops);
     END IF;
   EXCEPTION WHEN OTHERS THEN
     RAISE NOTICE 'pg_trgm unavailable (%): asset search uses prefix indexes only', SQLERRM;
   END $$`
]

export const assetSearch: Migration = {
  id: 3,
  name: "asset_search",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
