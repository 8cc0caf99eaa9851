/**
 * Forwards a child's output line by line. JSON log lines stay byte-for-byte intact when the
 * output goes to a file or a pipe (they already carry `"service"`, and log tooling parses them);
 * on a terminal they become a compact `[registry] INFO message key=value` line. Anything else
 * (stack traces, tsx watch notices) gets a `[registry]` prefix so you know who said it.
 */
import { createInterface } from "node:readline"
import type { Readable } from "node:stream"

const ansi = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`
const colours = { red: ansi(31), green: ansi(32), yellow: ansi(33), magenta: ansi(35), cyan: ansi(36) }
const dim = ansi(2)

const levelColour = (level: string) =>
  level === "ERROR" || level === "FATAL"
    ? colours.red
    : level === "WARN" || level === "WARNING"
      ? colours.yellow
      : level === "INFO"
        ? colours.green
        : dim

/** Keys already shown (or too noisy for a terminal); they stay in the raw JSON. */
const hidden = new Set(["time", "level", "service", "message", "traceId", "spanId"])

const show = (value: unknown): string =>
  typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)

const parseLog = (line: string): Record<string, unknown> | null => {
  if (!line.startsWith("{")) return null
  try {
    const parsed: unknown = JSON.parse(line)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

export interface Sink {
  readonly write: (line: string) => void
  readonly pretty: boolean
}

export const sinkFor = (stream: NodeJS.WriteStream): Sink => ({
  write: (line) => {
    stream.write(`${line}\n`)
  },
  pretty: stream.isTTY === true
})

/** Formats one line from `name`'s output for `sink`. */
export const formatLine = (name: string, line: string, pretty: boolean): string => {
  const log = parseLog(line)
  if (log !== null && !pretty) return line
  const prefix = pretty ? (name === "registry" ? colours.cyan : colours.magenta)(`[${name}]`) : `[${name}]`
  if (log === null || typeof log.level !== "string") return `${prefix} ${line}`
  // `Effect.log("text", { key: value })` logs an array: text parts first, objects as fields.
  const parts: ReadonlyArray<unknown> = Array.isArray(log.message) ? log.message : [log.message]
  const text = parts.filter((p) => typeof p !== "object" || p === null).map(String)
  const objects = parts.filter((p): p is object => typeof p === "object" && p !== null)
  const fields = [...objects.flatMap((o) => Object.entries(o)), ...Object.entries(log)]
    .filter(([key]) => !hidden.has(key))
    .map(([key, value]) => `${key}=${show(value)}`)
    .join(" ")
  const level = levelColour(log.level)(log.level.padEnd(5))
  return `${prefix} ${level} ${text.join(" ")}${fields === "" ? "" : ` ${dim(fields)}`}`
}

/** Forwards `input` line by line; resolves when the stream ends. */
export const forwardLines = (input: Readable, name: string, sink: Sink): Promise<void> =>
  new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
    lines.on("line", (line) => sink.write(formatLine(name, line, sink.pretty)))
    lines.once("close", () => resolve())
  })
