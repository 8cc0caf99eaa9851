/**
 * Trader's migrations, applied by Trader's migrator only, inside the `trader` schema (ids are
 * Trader's own). Add new ones at the end with the next id; never edit an applied one.
 */
import { backtests } from "./0001_backtests"
import { resultStorage } from "./0002_result_storage"
import { deployments } from "./0003_deployments"
import { resultJson } from "./0004_result_json"
import { brokerDeployments } from "./0005_broker_deployments"
import { resultLz4 } from "./0006_result_lz4"

export const TRADER_SCHEMA = "trader"

export const traderMigrations = [
  backtests,
  resultStorage,
  deployments,
  resultJson,
  brokerDeployments,
  resultLz4
]
