/**
 * Equity columns are float64 bytes that pglz barely compresses, yet trying costs a third of a
 * second per million-bar result: stored out of line without compression (`EXTERNAL`), they are
 * written at the speed of the disk. PGlite accepts the same statement.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

export const resultStorage: Migration = {
  id: 2,
  name: "result_storage",
  up: ({ exec }) =>
    Effect.forEach(
      ["equity_ts", "equity", "benchmark"],
      (column) => exec(`ALTER TABLE trader.backtest_results ALTER COLUMN ${column} SET STORAGE EXTERNAL`),
      { discard: true }
    )
}
