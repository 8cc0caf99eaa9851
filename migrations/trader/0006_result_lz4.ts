/**
 * A result's columns are compressed with lz4 where the server has it: a million-bar result (three
 * 8 MB float64 columns and 4 MB of orders and fills) is written in about half the time it takes
 * uncompressed (`EXTERNAL`, migration 2), since lz4 costs less than writing (and logging) the bytes
 * it saves: bar times and flat stretches of equity shrink well. pglz, the default, costs more than
 * it saves. A server built without lz4 (PGlite, say) keeps the columns as they are.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const COLUMNS = ["result", "equity_ts", "equity", "benchmark"]

export const resultLz4: Migration = {
  id: 6,
  name: "result_lz4",
  up: ({ exec }) =>
    Effect.asVoid(
      exec(`DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings
             WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE trader.backtest_results
      ${COLUMNS.map((c) => `ALTER COLUMN ${c} SET STORAGE EXTENDED, ALTER COLUMN ${c} SET COMPRESSION lz4`).join(",\n      ")};
  END IF;
END $$`)
    )
}
