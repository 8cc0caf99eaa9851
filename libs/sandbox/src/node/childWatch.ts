/**
 * What the host watches on a child besides its messages: how much it writes (a flood gets it
 * killed), the tail of its stderr (how V8 and Node say why a process died), and its resident
 * memory. Plain functions: they run in Node stream callbacks.
 */
import { readFile } from "node:fs/promises"
import { Duration } from "effect"
import { megabytes, type SandboxLimitValues, seconds } from "../SandboxLimits"

/** Counts bytes per window; `spend` returns the reason once the budget is blown. */
export const outputBudget = (limits: SandboxLimitValues) => {
  const windowMs = Duration.toMillis(limits.outputWindow)
  let windowStart = Date.now()
  let spent = 0
  return (bytes: number, what: string): string | undefined => {
    const now = Date.now()
    if (now - windowStart > windowMs) {
      windowStart = now
      spent = 0
    }
    spent += bytes
    return spent > limits.outputBytes
      ? `flooded ${what} (more than ${megabytes(limits.outputBytes)} within ${seconds(limits.outputWindow)})`
      : undefined
  }
}

const TAIL_BYTES = 8 * 1024

/** The last few KB of stderr, enough for V8's OOM banner or Node's uncaught-error report. */
export const stderrTail = () => {
  let tail = ""
  return {
    push: (chunk: string) => {
      tail = (tail + chunk).slice(-TAIL_BYTES)
    },
    get text() {
      return tail
    }
  }
}

// V8's banner, e.g. "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory".
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed/i
// Node's uncaught-exception report prints the error on a line of its own ("TypeError: …").
const ERROR_LINE = /^(?:Uncaught )?[A-Za-z]*(?:Error|Exception)\b.*$/m

/** Why a child ended, in words for a report or a log line. */
export const exitReason = (
  code: number | null,
  signal: NodeJS.Signals | null,
  loading: boolean,
  stderr: string,
  limits: SandboxLimitValues
): string => {
  if (OUT_OF_MEMORY.test(stderr)) return `ran out of memory (heap cap ${limits.heapMb} MB)`
  const where = loading ? " while loading" : ""
  const error = ERROR_LINE.exec(stderr)?.[0]?.trim().slice(0, 300)
  const detail = error ? `: ${error}` : ""
  return signal ? `was killed by ${signal}${where}${detail}` : `exited with code ${code}${where}${detail}`
}

/** Resident set size in bytes from /proc (Linux); undefined where it cannot be read. */
export const residentBytes = (pid: number): Promise<number | undefined> =>
  readFile(`/proc/${pid}/statm`, "utf8").then(
    (text) => {
      const pages = Number(text.split(" ")[1])
      // x86-64 and arm64 Linux use 4 KiB pages unless configured otherwise.
      return Number.isFinite(pages) ? pages * 4096 : undefined
    },
    () => undefined
  )

/** The first child of `pid` (node under `unshare --fork`), from /proc; undefined until it exists. */
export const sandboxedPid = (pid: number): Promise<number | undefined> =>
  readFile(`/proc/${pid}/task/${pid}/children`, "utf8").then(
    (text) => {
      const first = Number(text.trim().split(/\s+/)[0])
      return Number.isInteger(first) && first > 0 ? first : undefined
    },
    () => undefined
  )

/**
 * JSON of `value` cut at `max` characters, built by walking it rather than serialising it
 * whole: a child's message may hold a 50 MB typed array or an object with millions of keys,
 * and a 120-character preview must not cost more than those characters. Binary data is shown
 * by kind and length only; anything past `max` is not visited.
 */
export const boundedJson = (
  value: unknown,
  max: number
): { readonly text: string; readonly complete: boolean } => {
  let text = ""
  const put = (s: string) => {
    text += s.length > max - text.length + 1 ? s.slice(0, max - text.length + 1) : s
    return text.length <= max
  }
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v === "number" || typeof v === "boolean")
      return put(typeof v === "number" && !Number.isFinite(v) ? "null" : String(v))
    if (typeof v === "string") return put(JSON.stringify(v.length > max ? v.slice(0, max) : v))
    if (typeof v === "bigint") return put(`"${v}n"`)
    if (typeof v !== "object") return put(`"(${typeof v})"`)
    if (ArrayBuffer.isView(v))
      return put(`"${v.constructor.name}(${"length" in v ? v.length : v.byteLength})"`)
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer)
      return put(`"${v.constructor.name}(${v.byteLength})"`)
    if (v instanceof Map || v instanceof Set) return put(`"${v.constructor.name}(${v.size})"`)
    if (v instanceof Date) return put(JSON.stringify(Number.isNaN(v.getTime()) ? null : v.toISOString()))
    if (depth > 20) return put(`"(nested too deep)"`)
    if (Array.isArray(v)) {
      if (!put("[")) return false
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(",")) || !walk(v[i], depth + 1)) return false
      return put("]")
    }
    if (!put("{")) return false
    let first = true
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue
      if ((!first && !put(",")) || !put(`${JSON.stringify(key.slice(0, max))}:`)) return false
      first = false
      if (!walk((v as Record<string, unknown>)[key], depth + 1)) return false
    }
    return put("}")
  }
  try {
    const complete = walk(value, 0)
    return complete ? { text, complete } : { text: text.slice(0, max), complete }
  } catch {
    return { text: `"(unreadable ${typeof value})"`, complete: false }
  }
}

/** The first characters of a child's message, for a reason or a log line. */
export const preview = (raw: unknown, max = 120): string => boundedJson(raw, max).text

/** The most characters of a child's log fields that reach the host's log. */
export const MAX_LOG_FIELDS = 4096

/** Provider log fields as plain JSON data of bounded size; past the bound, their start as text. */
export const boundedFields = (
  fields: Readonly<Record<string, unknown>> | undefined
): Readonly<Record<string, unknown>> | undefined => {
  if (fields === undefined) return undefined
  const { text, complete } = boundedJson(fields, MAX_LOG_FIELDS)
  return complete ? (JSON.parse(text) as Record<string, unknown>) : { truncated: `${text}…` }
}
