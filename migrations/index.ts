/** Every migration, in order. Add new ones at the end with the next id; never edit an applied one. */
import { coreTables } from "./0001_core_tables"
import { timeseries } from "./0002_timeseries"
import { registry } from "./0003_registry"
import { assetSearch } from "./0004_asset_search"
import { collection } from "./0005_collection"
import { liveFillfactor } from "./0006_live_fillfactor"
import { runHeartbeat } from "./0007_run_heartbeat"
import { strategyCode } from "./0008_strategy_code"

export const migrations = [
  coreTables,
  timeseries,
  registry,
  assetSearch,
  collection,
  liveFillfactor,
  runHeartbeat,
  strategyCode
]
