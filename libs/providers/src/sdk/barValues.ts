import type { ProviderBar } from "./types"

/**
 * Whether two versions of a bar carry the same values: a provider that closes bars on a timer
 * sends a closed bar again only when the exchange's final values differ (a revision).
 */
export const sameBarValues = (a: ProviderBar, b: ProviderBar): boolean =>
  a.open === b.open &&
  a.high === b.high &&
  a.low === b.low &&
  a.close === b.close &&
  a.volume === b.volume &&
  a.vwap === b.vwap &&
  a.trades === b.trades
