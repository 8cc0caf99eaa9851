/**
 * The shared list Registry and DataHub ran before each got its own schema: every table in
 * `public`, recorded in `public.schema_migrations`. Kept to build that layout in tests of the
 * upgrade (migrations/test); no service runs it any more, and it never changes.
 */
import { coreTables } from "./0001_core_tables"
import { timeseries } from "./0002_timeseries"
import { registry } from "./0003_registry"
import { assetSearch } from "./0004_asset_search"
import { collection } from "./0005_collection"
import { liveFillfactor } from "./0006_live_fillfactor"
import { runHeartbeat } from "./0007_run_heartbeat"
import { strategyCode } from "./0008_strategy_code"

export const legacyMigrations = [
  coreTables,
  timeseries,
  registry,
  assetSearch,
  collection,
  liveFillfactor,
  runHeartbeat,
  strategyCode
]
