/**
 * Trader's migrations, applied by Trader's migrator only, inside the `trader` schema (ids are
 * Trader's own). Add new ones at the end with the next id; never edit an applied one.
 */
import { backtests } from "./0001_backtests"

export const TRADER_SCHEMA = "trader"

export const traderMigrations = [backtests]
