/**
 * What DataHub watches on a child besides its messages: how much it writes (a flood gets it
 * killed), the tail of its stderr (how V8 and Node say why a process died), and its resident
 * memory. Plain functions: they run in Node stream callbacks.
 */
import { readFile } from "node:fs/promises"
import { Duration } from "effect"
import { megabytes, type SandboxLimitValues, seconds } from "./SandboxLimits"

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
