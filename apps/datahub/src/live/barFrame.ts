/**
 * The `/live` wire format of a bar message, written out without a schema encode per bar: the
 * hot path of the feed. `LiveServerMessage` in the domain is its definition.
 */
import type { LiveUpdate } from "./LiveHub"

/** A number as JSON writes it (bars hold finite numbers only: the writer refuses others). */
const json = (x: number | undefined): string => (x === undefined ? "null" : String(x))

/**
 * A bar's frame: the text JSON.stringify gives for the schema's encoding of the `bar` message
 * (test/live/barFrame.golden.test.ts holds it to that). This runs for every bar every client
 * receives, so each update's frame is made once, however many clients watch its series.
 */
const barFrames = new WeakMap<LiveUpdate, string>()
/** Per series, the frame's text up to the bar's open time: the same for all its bars. */
const prefixes = new Map<string, string>()
/** The last open time written out: every series' forming bar shares it. */
let lastIso = { ts: Number.NaN, text: "" }
export const barFrame = (u: LiveUpdate): string => {
  let text = barFrames.get(u)
  if (text === undefined) {
    const b = u.bar
    let prefix = prefixes.get(u.key)
    if (prefix === undefined) {
      if (prefixes.size >= 100_000) prefixes.clear()
      prefix = `{"_tag":"bar","provider":${JSON.stringify(u.provider)},"symbol":${JSON.stringify(u.symbol)},"timeframe":${JSON.stringify(u.timeframe)},"bar":{"ts":"`
      prefixes.set(u.key, prefix)
    }
    if (lastIso.ts !== b.ts) lastIso = { ts: b.ts, text: new Date(b.ts).toISOString() }
    text =
      `${prefix}${lastIso.text}","open":${json(b.open)},"high":${json(b.high)},"low":${json(b.low)},` +
      `"close":${json(b.close)},"volume":${json(b.volume)},"vwap":${json(b.vwap)},"trades":${json(b.trades)}},"closed":${u.closed}}`
    barFrames.set(u, text)
  }
  return text
}
