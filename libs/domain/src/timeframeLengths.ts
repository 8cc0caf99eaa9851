/**
 * The timeframes and the length of one bar of each, with no Effect: all a sandbox child needs of
 * them (the schemas and the rest of the arithmetic are in Timeframe.ts).
 */
export const timeframes = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"] as const

const MINUTE = 60_000
const DAY = 1_440 * MINUTE

/** The length of one bar of each timeframe, in milliseconds. */
export const timeframeMs: Readonly<Record<(typeof timeframes)[number], number>> = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": 60 * MINUTE,
  "4h": 240 * MINUTE,
  "1d": DAY,
  "1w": 7 * DAY
}
