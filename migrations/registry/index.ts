/**
 * The Registry's migrations, applied by the Registry's migrator only, inside the `registry`
 * schema (ids are the Registry's own). Add new ones at the end with the next id; never edit an
 * applied one.
 */
import { fromPublic } from "../fromPublic"
import { catalog } from "./0002_catalog"
import { assetSearch } from "./0003_asset_search"

export const REGISTRY_SCHEMA = "registry"

export const registryMigrations = [
  fromPublic(REGISTRY_SCHEMA, {
    // The change log is the Registry's: its ids are the counter catalogue watchers wait from.
    tables: ["code_registry", "provider_settings", "assets", "asset_mapping", "change_events"]
  }),
  catalog,
  assetSearch
]
