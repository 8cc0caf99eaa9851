/**
 * How much a sandbox child may use and how long the host (DataHub, Trader) waits for it. The
 * operator sets the CPU budget and the number of sandboxes (`QUASAR_SANDBOX_CPU_PERCENT`,
 * `QUASAR_SANDBOX_MAX_CONCURRENT`); a bad value stops the service at start with a message naming
 * the variable.
 */
import { describeConfigError } from "@quasar/server"
import { Config, Context, Duration, Effect, Layer } from "effect"
import { SandboxSetupError } from "./errors"

export interface SandboxLimitValues {
  /** V8 old-space cap (`--max-old-space-size`), MB; past it V8 aborts the child. */
  readonly heapMb: number
  /**
   * Resident memory cap, MB. ArrayBuffers live outside the V8 heap, so the heap cap alone does
   * not bound a child; the host samples /proc/<pid>/statm and kills past this.
   */
  readonly rssMb: number
  readonly loadTimeout: Duration.Duration
  /** One `listAssets` call. */
  readonly callTimeout: Duration.Duration
  /** One history page (live events may be quiet for long: they rely on the heartbeat). */
  readonly pullTimeout: Duration.Duration
  /** How long a cancelled call may take to acknowledge before the child is killed. */
  readonly cancelGrace: Duration.Duration
  /** Long-running children are pinged this often and killed if a ping goes unanswered as long. */
  readonly heartbeat: Duration.Duration
  /** stdout + stderr + log messages allowed per `outputWindow`; more is a flood. */
  readonly outputBytes: number
  readonly outputWindow: Duration.Duration
  /** First restart delay after a crash; doubles per consecutive crash up to `maxRestartDelay`. */
  readonly restartDelay: Duration.Duration
  readonly maxRestartDelay: Duration.Duration
  /** A call waits this long at most for a pending restart; past it, it fails with `retryAfterMs`. */
  readonly maxRestartWait: Duration.Duration
  /** A provider sandbox with no call for this long is stopped (it restarts on the next call). */
  readonly idleTimeout: Duration.Duration
  /**
   * CPU per sandbox, in percent of one core: a cgroup quota holds the child to it where the host
   * may create cgroups, else a child above it for `cpuWindow` is killed.
   */
  readonly cpuPercent: number
  readonly cpuWindow: Duration.Duration
  /** Sandboxes (validations and providers) running at once; a start waits up to `admissionWait` for a place. */
  readonly maxConcurrent: number
  readonly admissionWait: Duration.Duration
  /** The type-check worker's V8 heap cap, MB (lib.dom.d.ts alone takes ~100 MB parsed). */
  readonly checkerHeapMb: number
  /** One type check; past it the upload is blamed and the worker replaced. */
  readonly checkTimeout: Duration.Duration
}

export const defaults: SandboxLimitValues = {
  heapMb: 96,
  rssMb: 256,
  loadTimeout: Duration.seconds(5),
  callTimeout: Duration.seconds(30),
  pullTimeout: Duration.seconds(60),
  cancelGrace: Duration.seconds(2),
  heartbeat: Duration.seconds(10),
  outputBytes: 1024 * 1024,
  outputWindow: Duration.seconds(10),
  restartDelay: Duration.millis(500),
  maxRestartDelay: Duration.minutes(1),
  maxRestartWait: Duration.seconds(5),
  idleTimeout: Duration.minutes(10),
  cpuPercent: 50,
  cpuWindow: Duration.seconds(5),
  maxConcurrent: 16,
  admissionWait: Duration.seconds(10),
  checkerHeapMb: 512,
  checkTimeout: Duration.seconds(30)
}

export class SandboxLimits extends Context.Tag("@quasar/sandbox/SandboxLimits")<
  SandboxLimits,
  SandboxLimitValues
>() {
  /** The defaults, then the environment, then `overrides` (tests shorten timeouts with them). */
  static readonly layer = (overrides: Partial<SandboxLimitValues> = {}) =>
    Layer.effect(
      SandboxLimits,
      fromEnvironment.pipe(
        Effect.map((env) => ({ ...defaults, ...env, ...overrides })),
        Effect.mapError(
          (e) => new SandboxSetupError({ message: `invalid sandbox limits: ${describeConfigError(e)}` })
        )
      )
    )
}

const wholeNumber = (name: string, min: number, max: number, what: string) =>
  Config.integer().pipe(
    Config.validate({
      message: `must be a whole number from ${min} to ${max} (${what})`,
      validation: (n) => n >= min && n <= max
    }),
    Config.option,
    Config.nested(name)
  )

const fromEnvironment = Effect.map(
  Config.all({
    cpuPercent: wholeNumber("QUASAR_SANDBOX_CPU_PERCENT", 1, 100, "percent of one CPU core per sandbox"),
    maxConcurrent: wholeNumber("QUASAR_SANDBOX_MAX_CONCURRENT", 1, 1000, "sandboxes running at once")
  }),
  ({ cpuPercent, maxConcurrent }): Partial<SandboxLimitValues> => ({
    ...(cpuPercent._tag === "Some" ? { cpuPercent: cpuPercent.value } : {}),
    ...(maxConcurrent._tag === "Some" ? { maxConcurrent: maxConcurrent.value } : {})
  })
)

/** "5 s", "96 MB", as reasons and reports show them. */
export const seconds = (d: Duration.Duration): string => {
  const s = Duration.toMillis(d) / 1000
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`
}
export const megabytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MB`
