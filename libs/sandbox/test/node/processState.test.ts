/**
 * The host's bookkeeping of one child as plain data: placement, the kernel's memory kill under a
 * launcher, memory and CPU limits, the load, cancel and heartbeat deadlines, deliberate stops.
 */
import { Duration } from "effect"
import { describe, expect, it } from "vitest"
import {
  initial,
  type SandboxProcessEvent,
  type SandboxProcessState,
  step
} from "../../src/node/SandboxProcessState"

const MB = 1024 * 1024

const config = {
  limits: {
    rssMb: 100,
    cpuPercent: 50,
    cpuWindow: Duration.seconds(5),
    loadTimeout: Duration.seconds(5),
    cancelGrace: Duration.millis(1500),
    heartbeat: Duration.seconds(10)
  },
  ticksPerSecond: 100
}

const run = (events: ReadonlyArray<SandboxProcessEvent>, from: SandboxProcessState = initial(config)) =>
  events.reduce(
    (acc, event) => {
      const next = step(acc.state, event)
      return { state: next.state, outputs: [...acc.outputs, ...next.outputs] }
    },
    { state: from, outputs: [] as ReadonlyArray<unknown> }
  )

describe("SandboxProcessState", () => {
  it("sends the token once placed, and kills a child that cannot be placed", () => {
    const placed = step(initial(config), { _tag: "Placed", pids: [10, 11] })
    expect(placed.state.pids).toEqual([10, 11])
    expect(placed.outputs).toEqual([{ _tag: "SendInit" }])
    expect(step(initial(config), { _tag: "PlacementFailed", message: "no cgroup" }).outputs).toEqual([
      { _tag: "Kill", reason: "could not be placed in its resource limits (no cgroup)" }
    ])
  })

  it("asks about the kernel's memory kill only when the child was killed", () => {
    const s = initial(config)
    const exit = (code: number | null, signal: string | null, wrapped: boolean) =>
      step(s, { _tag: "Exited", code, signal, wrapped }).outputs
    expect(exit(null, "SIGKILL", false)).toEqual([{ _tag: "CheckMemory" }])
    // Under unshare a kernel kill shows as the launcher exiting with code 1.
    expect(exit(1, null, true)).toEqual([{ _tag: "CheckMemory" }])
    expect(exit(1, null, false)).toEqual([])
    expect(exit(0, null, true)).toEqual([])
    expect(exit(null, "SIGTERM", false)).toEqual([])
    expect(step(s, { _tag: "MemoryChecked", outOfMemory: true }).outputs).toEqual([
      { _tag: "Kill", reason: "used more than 100 MB of memory" }
    ])
    expect(step(s, { _tag: "MemoryChecked", outOfMemory: false }).outputs).toEqual([])
  })

  it("kills past the resident memory cap and stops sampling once the child is gone", () => {
    const s = initial(config)
    expect(step(s, { _tag: "MemorySampled", rss: 100 * MB }).outputs).toEqual([])
    expect(step(s, { _tag: "MemorySampled", rss: 100 * MB + 1 }).outputs).toEqual([
      { _tag: "Kill", reason: "used more than 100 MB of memory" }
    ])
    expect(step(s, { _tag: "MemorySampled", rss: undefined }).outputs).toEqual([{ _tag: "StopSampling" }])
  })

  it("judges CPU only over a full window", () => {
    const tree = step(initial(config), { _tag: "TreeFinal", pids: [7] }).state
    expect(tree.pids).toEqual([7])
    // 100% of a core, but for less than the window: nothing yet.
    const early = run(
      [0, 1, 2, 3, 4].map((i) => ({ _tag: "CpuSampled" as const, now: i * 1000, ticks: i * 100 })),
      tree
    )
    expect(early.outputs).toEqual([])
    const full = step(early.state, { _tag: "CpuSampled", now: 5000, ticks: 500 })
    expect(full.outputs).toEqual([
      {
        _tag: "Kill",
        reason: "used 100% of a CPU core for 5 s; the budget is 50% (QUASAR_SANDBOX_CPU_PERCENT)"
      }
    ])
  })

  it("keeps to the budget at exactly the limit and slides the window", () => {
    // 50% of a core is the budget itself: not over it.
    const half = run(
      Array.from({ length: 20 }, (_, i) => ({ _tag: "CpuSampled" as const, now: i * 500, ticks: i * 25 }))
    )
    expect(half.outputs).toEqual([])
    // Old samples go, but two always stay, and the window starts at the newest one old enough.
    expect(half.state.samples.length).toBeLessThanOrEqual(12)
    expect(half.state.samples[0]?.at).toBe(9500 - 5000)
    // A burst after a quiet stretch counts over the window only.
    const burst = run(
      [
        { _tag: "CpuSampled", now: 0, ticks: 0 },
        { _tag: "CpuSampled", now: 60_000, ticks: 0 },
        { _tag: "CpuSampled", now: 65_000, ticks: 400 }
      ],
      initial(config)
    )
    expect(burst.state.samples.map((s) => s.at)).toEqual([60_000, 65_000])
    expect(burst.outputs).toEqual([
      {
        _tag: "Kill",
        reason: "used 80% of a CPU core for 5 s; the budget is 50% (QUASAR_SANDBOX_CPU_PERCENT)"
      }
    ])
  })

  it("fails the load and kills a child that does not load in time", () => {
    expect(step(initial(config), { _tag: "LoadTimedOut" }).outputs).toEqual([
      { _tag: "Kill", reason: "did not finish loading within 5 s" },
      { _tag: "FailLoad", problems: ["the module did not finish loading within 5 s"] }
    ])
  })

  it("names the grace and the heartbeat in the reasons of a silent child", () => {
    const s = initial(config)
    expect(step(s, { _tag: "CancelUnacknowledged", what: "listAssets" }).outputs).toEqual([
      { _tag: "Kill", reason: "did not stop listAssets within 1.5 s of being cancelled" }
    ])
    expect(step(s, { _tag: "HeartbeatMissed" }).outputs).toEqual([
      { _tag: "Kill", reason: "stopped answering for 10 s (its event loop is blocked)" }
    ])
  })

  it("hands out call ids in order", () => {
    const taken = run([{ _tag: "IdTaken" }, { _tag: "IdTaken" }])
    expect(taken.state.nextId).toBe(2)
  })

  it("warns about an end the host did not ask for", () => {
    const s = initial(config)
    expect(step(s, { _tag: "Ended", reason: "crashed" }).outputs).toEqual([
      { _tag: "WarnEnded", reason: "crashed" }
    ])
    expect(step(s, { _tag: "Ended", reason: "stopped after failing to load" }).outputs).toEqual([])
    const killed = run([
      { _tag: "KillAsked", reason: "flooded" },
      { _tag: "Ended", reason: "flooded" }
    ])
    expect(killed.outputs).toEqual([
      { _tag: "Kill", reason: "flooded" },
      { _tag: "WarnEnded", reason: "flooded" }
    ])
    const stopped = run([
      { _tag: "StopAsked", reason: "idle" },
      { _tag: "Ended", reason: "idle" }
    ])
    expect(stopped.state.asked).toBe(true)
    expect(stopped.outputs).toEqual([{ _tag: "Kill", reason: "idle" }])
  })
})
