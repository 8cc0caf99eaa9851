/**
 * The host's bookkeeping for one sandbox child as a pure reducer: which processes are its own,
 * whether the host stopped it on purpose, the call ids it has handed out, the CPU samples of the
 * current window, and which reason a limit or a silence kills it for. SandboxProcess.ts feeds it
 * what it observes (with the time it read from the clock) and performs the outputs; nothing here
 * reads a clock or touches the process.
 */
import { Duration } from "effect"
import { type SandboxLimitValues, seconds } from "../SandboxLimits"

const MB = 1024 * 1024

export interface CpuSample {
  readonly at: number
  readonly ticks: number
}

export interface SandboxProcessConfig {
  readonly limits: Pick<
    SandboxLimitValues,
    "rssMb" | "cpuPercent" | "cpuWindow" | "loadTimeout" | "cancelGrace" | "heartbeat"
  >
  /** Clock ticks per second of the CPU counters (`cpuTicks`). */
  readonly ticksPerSecond: number
}

export interface SandboxProcessState {
  readonly config: SandboxProcessConfig
  /** The child's processes: placed at spawn, the whole final tree once loaded. */
  readonly pids: ReadonlyArray<number>
  /** The host itself stopped the child (idle, retired, done): its end is not worth a warning. */
  readonly asked: boolean
  /** The next call id to hand out. */
  readonly nextId: number
  /** CPU samples that still matter for the window ending at the latest one. */
  readonly samples: ReadonlyArray<CpuSample>
}

export type SandboxProcessEvent =
  /** The child spawned and `placement.enter` put these processes in the limits. */
  | { readonly _tag: "Placed"; readonly pids: ReadonlyArray<number> }
  | { readonly _tag: "PlacementFailed"; readonly message: string }
  /** Node's "exit" of the process the host started; `wrapped` when it is a launcher (unshare). */
  | {
      readonly _tag: "Exited"
      readonly code: number | null
      readonly signal: string | null
      readonly wrapped: boolean
    }
  /** Answer to `CheckMemory`: the placement saw the kernel's out-of-memory killer act. */
  | { readonly _tag: "MemoryChecked"; readonly outOfMemory: boolean }
  /** Resident memory of the child's node, or undefined once it is gone. */
  | { readonly _tag: "MemorySampled"; readonly rss: number | undefined }
  /** Loaded: the child can start no process, so this tree is final. */
  | { readonly _tag: "TreeFinal"; readonly pids: ReadonlyArray<number> }
  | { readonly _tag: "CpuSampled"; readonly now: number; readonly ticks: number }
  | { readonly _tag: "LoadTimedOut" }
  | { readonly _tag: "CancelUnacknowledged"; readonly what: string }
  | { readonly _tag: "HeartbeatMissed" }
  | { readonly _tag: "IdTaken" }
  /** Killed for misbehaving. */
  | { readonly _tag: "KillAsked"; readonly reason: string }
  /** Stopped deliberately by the host (idle, retired, done, scope closed). */
  | { readonly _tag: "StopAsked"; readonly reason: string }
  /** The channel reported the child's end. */
  | { readonly _tag: "Ended"; readonly reason: string }

export type SandboxProcessOutput =
  | { readonly _tag: "Kill"; readonly reason: string }
  /** Hand the child its token: it is in its limits. */
  | { readonly _tag: "SendInit" }
  /** Ask the placement whether the kernel killed the child for memory (answer: MemoryChecked). */
  | { readonly _tag: "CheckMemory" }
  /** The memory watch has nothing left to watch. */
  | { readonly _tag: "StopSampling" }
  | { readonly _tag: "FailLoad"; readonly problems: ReadonlyArray<string> }
  /** The child ended without the host asking: log it as a warning with its reason. */
  | { readonly _tag: "WarnEnded"; readonly reason: string }

export interface Step {
  readonly state: SandboxProcessState
  readonly outputs: ReadonlyArray<SandboxProcessOutput>
}

export const initial = (config: SandboxProcessConfig): SandboxProcessState => ({
  config,
  pids: [],
  asked: false,
  nextId: 0,
  samples: []
})

const kill = (reason: string): SandboxProcessOutput => ({ _tag: "Kill", reason })

export const memoryReason = (config: SandboxProcessConfig): string =>
  `used more than ${config.limits.rssMb} MB of memory`

/** Adds a sample, drops those older than the window (keeping two), and measures the window. */
const sampleCpu = (state: SandboxProcessState, now: number, ticks: number): Step => {
  const { limits, ticksPerSecond } = state.config
  const windowMs = Duration.toMillis(limits.cpuWindow)
  const samples = [...state.samples, { at: now, ticks }]
  while (samples.length > 2 && (samples[1]?.at ?? now) <= now - windowMs) samples.shift()
  const next = { ...state, samples }
  const first = samples[0]
  if (!first || now - first.at < windowMs) return { state: next, outputs: [] }
  const used = ((samples.at(-1)?.ticks ?? 0) - first.ticks) / ticksPerSecond / ((now - first.at) / 1000)
  if (used * 100 <= limits.cpuPercent) return { state: next, outputs: [] }
  return {
    state: next,
    outputs: [
      kill(
        `used ${Math.round(used * 100)}% of a CPU core for ${seconds(limits.cpuWindow)}; the budget is ${limits.cpuPercent}% (QUASAR_SANDBOX_CPU_PERCENT)`
      )
    ]
  }
}

export const step = (state: SandboxProcessState, event: SandboxProcessEvent): Step => {
  const { limits } = state.config
  switch (event._tag) {
    case "Placed":
      return { state: { ...state, pids: event.pids }, outputs: [{ _tag: "SendInit" }] }
    case "PlacementFailed":
      return { state, outputs: [kill(`could not be placed in its resource limits (${event.message})`)] }
    case "Exited": {
      // Under a launcher, a node killed by the kernel can show as the launcher exiting with
      // code 1, not a signal.
      const killed = event.signal === "SIGKILL" || (event.wrapped && event.code !== 0)
      return { state, outputs: killed ? [{ _tag: "CheckMemory" }] : [] }
    }
    case "MemoryChecked":
      return { state, outputs: event.outOfMemory ? [kill(memoryReason(state.config))] : [] }
    case "MemorySampled":
      if (event.rss === undefined) return { state, outputs: [{ _tag: "StopSampling" }] }
      return { state, outputs: event.rss > limits.rssMb * MB ? [kill(memoryReason(state.config))] : [] }
    case "TreeFinal":
      return { state: { ...state, pids: event.pids }, outputs: [] }
    case "CpuSampled":
      return sampleCpu(state, event.now, event.ticks)
    case "LoadTimedOut": {
      const reason = `did not finish loading within ${seconds(limits.loadTimeout)}`
      return { state, outputs: [kill(reason), { _tag: "FailLoad", problems: [`the module ${reason}`] }] }
    }
    case "CancelUnacknowledged":
      return {
        state,
        outputs: [kill(`did not stop ${event.what} within ${seconds(limits.cancelGrace)} of being cancelled`)]
      }
    case "HeartbeatMissed":
      return {
        state,
        outputs: [kill(`stopped answering for ${seconds(limits.heartbeat)} (its event loop is blocked)`)]
      }
    case "IdTaken":
      return { state: { ...state, nextId: state.nextId + 1 }, outputs: [] }
    case "KillAsked":
      return { state, outputs: [kill(event.reason)] }
    case "StopAsked":
      return { state: { ...state, asked: true }, outputs: [kill(event.reason)] }
    case "Ended":
      // A child that failed to load is stopped by the host after its verdict: not a surprise.
      return {
        state,
        outputs:
          state.asked || event.reason === "stopped after failing to load"
            ? []
            : [{ _tag: "WarnEnded", reason: event.reason }]
      }
  }
}
