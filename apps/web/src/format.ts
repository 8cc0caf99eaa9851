/** How values read on screen: times in the browser's zone with UTC on hover, counts grouped. */
import { DateTime } from "effect"

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })
const integer = new Intl.NumberFormat()

/** A server timestamp, or a dash when there is none. */
export const formatTime = (value: DateTime.Utc | null | undefined): string =>
  value ? dateTime.format(DateTime.toDate(value)) : "—"

export const isoTime = (value: DateTime.Utc | null | undefined): string =>
  value ? DateTime.formatIso(value) : ""

export const formatCount = (n: number): string => integer.format(n)

/** A count with its noun, singular for one: "1 bar", "2,500 bars", "0 runs"; `many` for irregular plurals. */
export const countOf = (n: number, one: string, many = `${one}s`): string =>
  `${formatCount(n)} ${n === 1 ? one : many}`

/** A length of time: "45 s", "12 min", "3.5 h". */
export const formatDuration = (seconds: number): string =>
  seconds < 120
    ? `${Math.round(seconds)} s`
    : seconds < 7_200
      ? `${Math.round(seconds / 60)} min`
      : `${(seconds / 3_600).toFixed(1)} h`

/** "3 min ago", "in 20 s": for next runs and recent events. */
export const relativeTime = (value: DateTime.Utc | null | undefined, now = Date.now()): string => {
  if (!value) return "—"
  const delta = DateTime.toEpochMillis(value) - now
  const abs = Math.abs(delta)
  const text =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 86_400_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} d`
  return delta >= 0 ? `in ${text}` : `${text} ago`
}

/** `<input type="datetime-local">` value for an epoch-ms instant, in the browser's zone. */
export const toLocalInput = (ms: number): string => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000)
  return d.toISOString().slice(0, 16)
}

/** Epoch ms from a `datetime-local` value (browser's zone), or null when empty or invalid. */
export const fromLocalInput = (value: string): number | null => {
  if (value === "") return null
  const ms = new Date(value).getTime()
  return Number.isFinite(ms) ? ms : null
}

const price = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 8 })

/** A price as traders read it: up to 8 significant digits, no float noise. */
export const formatPrice = (n: number): string => price.format(n)
