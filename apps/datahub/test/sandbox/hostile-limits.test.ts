/**
 * Sandboxes that try to take the machine: CPU held to its budget (a cgroup quota, or a kill
 * where there is none), memory outside the V8 heap capped without overshooting between samples,
 * a cap on how many run at once, operator settings validated, and DataHub's /health answering
 * through fifty busy validations.
 */
import { readFileSync } from "node:fs"
import { expect, it, layer } from "@effect/vitest"
import { SandboxLimits, type SandboxLimitValues } from "@quasar/sandbox"
import {
  bundleUpload,
  cpuTicks,
  descendants,
  detectIsolation,
  makeEgress,
  SandboxNetwork,
  SandboxQuota,
  SandboxWorkspace,
  TICKS_PER_SECOND
} from "@quasar/sandbox/node"
import { TestService } from "@quasar/server/testing"
import { ConfigProvider, Duration, Effect, Either, Exit, Fiber, Layer, Logger, LogLevel } from "effect"
import { appLayer } from "../../src/App"
import { providerWorkspace, start } from "../../src/sandbox/ProviderSandbox"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { validJs } from "./fixtures/modules"
import { client, messages, validate } from "./support"

/** Loads fine, then keeps one core busy in 20 ms slices (so it still answers the host). */
const spinner = `const spin = () => { const until = Date.now() + 20; while (Date.now() < until) {} setImmediate(spin) }
setImmediate(spin)
${validJs("hostile-spin")}`

/** Loads fine, then allocates 16 MB typed arrays (outside the V8 heap), touching every page. */
const hoarder = `const hoard = []
const grab = () => { for (let i = 0; i < 4; i++) hoard.push(new Uint8Array(16 * 1024 * 1024).fill(1)); setImmediate(grab) }
setImmediate(grab)
${validJs("hostile-hoard")}`

/** The children's network as DataHub sets it up, with nothing allowlisted (these children reach nothing). */
const isolatedNetwork = Layer.effect(
  SandboxNetwork,
  Effect.map(detectIsolation, (isolation) => ({ isolation, egress: makeEgress({ allow: [], reserved: [] }) }))
)

const sandboxes = (limits: Partial<SandboxLimitValues>, cgroupRoot?: string) =>
  Layer.mergeAll(
    providerWorkspace,
    SandboxQuota.layer(cgroupRoot ? { cgroupRoot } : {}),
    isolatedNetwork
  ).pipe(
    Layer.provideMerge(SandboxLimits.layer(limits)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

const run = (source: string, label: string) =>
  Effect.gen(function* () {
    const workspace = yield* SandboxWorkspace
    const bundled = yield* bundleUpload(source, "javascript")
    const directory = yield* workspace.prepare(label, bundled.code)
    return yield* start({ provider: label, label, directory, heartbeat: false })
  })

const residentMb = (pid: number): number => {
  try {
    return (Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096) / (1024 * 1024)
  } catch {
    return 0
  }
}

layer(sandboxes({ cpuPercent: 20, cpuWindow: Duration.seconds(2), rssMb: 128 }), {
  timeout: 60_000,
  excludeTestServices: true
})("limits where DataHub may create cgroups", (it) => {
  it.scoped(
    "a busy child is held to its CPU budget, or killed for it",
    () =>
      Effect.gen(function* () {
        const quota = yield* SandboxQuota
        const sandbox = yield* run(spinner, "spin")
        if (quota.cpu === "sampling") {
          expect(yield* sandbox.exited).toMatch(/^used \d+% of a CPU core for 2 s; the budget is 20%/)
          return
        }
        // Under unshare the busy process is node, below the one DataHub started.
        const tree = () => [sandbox.pid, ...descendants(sandbox.pid)]
        const before = cpuTicks(tree())
        const t0 = Date.now()
        yield* Effect.sleep("3 seconds")
        const used = (cpuTicks(tree()) - before) / TICKS_PER_SECOND / ((Date.now() - t0) / 1000)
        // 20% of a core, with room for the runtime's own threads and the tick granularity.
        expect(used).toBeLessThan(0.3)
        expect(used).toBeGreaterThan(0)
      }),
    30_000
  )

  it.scoped(
    "typed arrays outside the V8 heap cannot overshoot the memory cap",
    () =>
      Effect.gen(function* () {
        const quota = yield* SandboxQuota
        const sandbox = yield* run(hoarder, "hoard")
        let peak = 0
        const watch = yield* Effect.fork(
          Effect.forever(
            Effect.zipRight(
              Effect.sync(() => {
                // The sandbox's whole tree: under unshare the hoarding process is node, one below.
                const rss = [sandbox.pid, ...descendants(sandbox.pid)].reduce(
                  (sum, pid) => sum + residentMb(pid),
                  0
                )
                peak = Math.max(peak, rss)
              }),
              Effect.sleep("5 millis")
            )
          )
        )
        expect(yield* sandbox.exited).toBe("used more than 128 MB of memory")
        yield* Fiber.interrupt(watch)
        // The watch saw the hoard grow (it measured the process that allocates).
        expect(peak).toBeGreaterThan(64)
        // A cgroup stops it at the cap; sampling lets it overshoot by what it allocates in 100 ms.
        if (quota.memory !== "sampling") expect(peak).toBeLessThan(128 * 1.5)
        expect(peak).toBeLessThan(128 * 3)
      }),
    30_000
  )
})

layer(sandboxes({ cpuPercent: 20, cpuWindow: Duration.seconds(2) }, "/nonexistent"), {
  timeout: 60_000,
  excludeTestServices: true
})("limits where DataHub may not create cgroups", (it) => {
  it.scoped(
    "sampling is the mechanism, and a busy child is killed with the reason",
    () =>
      Effect.gen(function* () {
        const quota = yield* SandboxQuota
        expect([quota.cpu, quota.memory]).toEqual(["sampling", "sampling"])
        const sandbox = yield* run(spinner, "spin")
        expect(yield* sandbox.exited).toMatch(
          /^used \d+% of a CPU core for 2 s; the budget is 20% \(QUASAR_SANDBOX_CPU_PERCENT\)$/
        )
      }),
    30_000
  )
})

layer(sandboxes({ maxConcurrent: 2, admissionWait: Duration.seconds(1) }), {
  timeout: 60_000,
  excludeTestServices: true
})("the cap on sandboxes", (it) => {
  it.scoped(
    "past the cap a start waits, then is refused with the setting to change",
    () =>
      Effect.gen(function* () {
        yield* run(validJs("one"), "one")
        yield* run(validJs("two"), "two")
        const third = yield* Effect.exit(Effect.scoped(run(validJs("three"), "three")))
        expect(third).toEqual(
          Exit.fail(
            expect.objectContaining({
              _tag: "SandboxSetupError",
              message:
                "all 2 sandbox places stayed taken for 1 s (QUASAR_SANDBOX_MAX_CONCURRENT); retry shortly"
            })
          )
        )
      }),
    30_000
  )
})

it.effect.each<readonly [string, string]>([
  ["QUASAR_SANDBOX_CPU_PERCENT", "abc"],
  ["QUASAR_SANDBOX_CPU_PERCENT", "0"],
  ["QUASAR_SANDBOX_CPU_PERCENT", "101"],
  ["QUASAR_SANDBOX_CPU_PERCENT", "12.5"],
  ["QUASAR_SANDBOX_MAX_CONCURRENT", "0"],
  ["QUASAR_SANDBOX_MAX_CONCURRENT", "-3"],
  ["QUASAR_SANDBOX_MAX_CONCURRENT", "many"]
])("%s=%s stops DataHub with a message naming it", ([name, value]) =>
  Effect.gen(function* () {
    const limits = yield* Effect.either(
      Effect.scoped(Layer.build(SandboxLimits.layer())).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([[name, value]])))
      )
    )
    expect(Either.isLeft(limits) && limits.left.message).toMatch(
      new RegExp(`^invalid sandbox limits: ${name}: .*(must be a whole number from 1 to \\d+|integer)`)
    )
  })
)

it.effect("operator settings apply, and explicit overrides win over them", () =>
  Effect.gen(function* () {
    const read = (overrides: Partial<SandboxLimitValues>) =>
      Effect.scoped(
        Effect.flatMap(Layer.build(SandboxLimits.layer(overrides)), (ctx) => Effect.succeed(ctx))
      ).pipe(
        Effect.map((ctx) => ctx.unsafeMap.get(SandboxLimits.key) as SandboxLimitValues),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["QUASAR_SANDBOX_CPU_PERCENT", "30"],
              ["QUASAR_SANDBOX_MAX_CONCURRENT", "7"]
            ])
          )
        )
      )
    expect(yield* read({})).toMatchObject({ cpuPercent: 30, maxConcurrent: 7 })
    expect(yield* read({ cpuPercent: 80 })).toMatchObject({ cpuPercent: 80, maxConcurrent: 7 })
  })
)

const busyApp = TestService.layer(
  appLayer({ loadTimeout: Duration.seconds(1), cpuPercent: 20, maxConcurrent: 4 }).pipe(
    Layer.provideMerge(MemoryCatalog.layer)
  )
).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

layer(busyApp, { timeout: 60_000, excludeTestServices: true })("DataHub under load", (it) => {
  it.effect(
    "fifty validations of a busy loop leave /health answering",
    () =>
      Effect.gen(function* () {
        const c = yield* client
        const busy = `while (true) {}\n${validJs("hostile")}`
        const all = yield* Effect.fork(
          Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i),
            () => validate("hostile", busy),
            { concurrency: "unbounded" }
          )
        )
        for (let i = 0; i < 5; i++) {
          yield* Effect.sleep("1 second")
          const health = yield* c.health.health().pipe(Effect.timeout("20 seconds"))
          expect(health.status).toBe("ok")
        }
        const results = yield* Fiber.join(all)
        expect(results).toHaveLength(50)
        for (const { report } of results)
          expect(messages(report)).toBe("the module did not finish loading within 1 s")
      }),
    240_000
  )
})
