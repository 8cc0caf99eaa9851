/**
 * DataHub's migrations, applied by DataHub's migrator only, inside the `datahub` schema (ids are
 * DataHub's own). Add new ones at the end with the next id; never edit an applied one.
 */
import { fromPublic } from "../fromPublic"
import { collection } from "./0002_collection"
import { timeseries } from "./0003_timeseries"
import { cluster } from "./0004_cluster"
import { ownerRelease } from "./0005_owner_release"

export { COMPRESS_AFTER } from "./0003_timeseries"

export const DATAHUB_SCHEMA = "datahub"

export const datahubMigrations = [
  fromPublic(DATAHUB_SCHEMA, {
    tables: [
      "provider_subscription",
      "historical_data",
      "live_data",
      "collection_runs",
      "collection_empty_ranges"
    ],
    views: ["historical_1h", "historical_1d"]
  }),
  collection,
  timeseries,
  cluster,
  ownerRelease
]
