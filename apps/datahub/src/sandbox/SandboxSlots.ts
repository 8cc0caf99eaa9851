/**
 * The lifecycle of the pool's sandboxes, one slot per (name, version): started on first use
 * (concurrent callers share one start), restarted after a crash no sooner than an exponential
 * backoff allows, retired when that version stops being the active one, stopped when idle.
 */
import { ProviderRetryableError, ServiceUnavailable } from "@quasar/domain"
import { SandboxLimits, SandboxLoadError, seconds } from "@quasar/sandbox"
import { bundleUpload, SandboxNetwork, SandboxQuota, SandboxWorkspace } from "@quasar/sandbox/node"
import { Context, Duration, Effect, Exit, Layer, Scope } from "effect"
import { ActiveCode, type ActiveVersion } from "./ActiveCode"
import { type Sandbox, start } from "./ProviderSandbox"

export interface SandboxStatus {
  readonly name: string
  readonly version: number
  /** The child's pid while one runs. */
  readonly pid: number | null
  readonly crashes: number
  readonly lastReason: string | null
  /** Calls and streams using it now. */
  readonly busy: number
}

interface Slot {
  readonly name: string
  readonly version: number
  readonly label: string
  readonly lock: Effect.Semaphore
  running:
    | { readonly sandbox: Sandbox; readonly scope: Scope.CloseableScope; readonly startedAt: number }
    | undefined
  crashes: number
  lastReason: string | undefined
  restartAt: number
  busy: number
  lastUsed: number
  retired: string | undefined
}

/** A sandbox that ran this long before dying gets a fresh backoff: it was not crash-looping. */
const STABLE_AFTER_MS = 60_000

const make = Effect.gen(function* () {
  const code = yield* ActiveCode
  const workspace = yield* SandboxWorkspace
  const limits = yield* SandboxLimits
  const network = yield* SandboxNetwork
  const quota = yield* SandboxQuota
  const poolScope = yield* Effect.scope
  const slots = new Map<string, Slot>()

  const slotFor = ({ name, version }: ActiveVersion): Slot => {
    const key = `${name}@${version}`
    const existing = slots.get(key)
    if (existing) return existing
    const slot: Slot = {
      name,
      version,
      label: `${name} v${version}`,
      lock: Effect.unsafeMakeSemaphore(1),
      running: undefined,
      crashes: 0,
      lastReason: undefined,
      restartAt: 0,
      busy: 0,
      lastUsed: Date.now(),
      retired: undefined
    }
    slots.set(key, slot)
    return slot
  }

  const stop = (slot: Slot, reason: string) =>
    Effect.suspend(() => {
      const running = slot.running
      // Cleared first, so the exit watcher sees a deliberate stop, not a crash.
      slot.running = undefined
      return running
        ? Effect.zipRight(running.sandbox.kill(reason), Scope.close(running.scope, Exit.void))
        : Effect.void
    })

  const crashed = (slot: Slot, reason: string) =>
    Effect.suspend(() => {
      const now = Date.now()
      if (slot.running && now - slot.running.startedAt > STABLE_AFTER_MS) slot.crashes = 0
      slot.crashes += 1
      slot.lastReason = reason
      const delay = Math.min(
        Duration.toMillis(limits.restartDelay) * 2 ** (slot.crashes - 1),
        Duration.toMillis(limits.maxRestartDelay)
      )
      slot.restartAt = now + delay
      return Effect.logWarning("provider sandbox crashed").pipe(
        Effect.annotateLogs({
          provider: slot.name,
          version: slot.version,
          reason,
          crashes: slot.crashes,
          restartInMs: delay
        })
      )
    })

  const launch = (slot: Slot) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const sandbox = yield* Effect.gen(function* () {
        const { source, language } = yield* code.source(slot.name, slot.version)
        const bundled = yield* bundleUpload(source, language).pipe(
          Effect.mapError((issues) => new SandboxLoadError({ problems: issues.map((i) => i.message) }))
        )
        const directory = yield* workspace.prepare(slot.label, bundled.code)
        return yield* start({ provider: slot.name, label: slot.label, directory, heartbeat: true })
      }).pipe(
        Scope.extend(scope),
        Effect.provideService(SandboxLimits, limits),
        Effect.provideService(SandboxNetwork, network),
        Effect.provideService(SandboxQuota, quota),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      slot.running = { sandbox, scope, startedAt: Date.now() }
      yield* sandbox.exited.pipe(
        Effect.flatMap((reason) =>
          slot.running?.sandbox === sandbox
            ? Effect.zipRight(crashed(slot, reason), stop(slot, reason))
            : Effect.void
        ),
        Effect.forkIn(poolScope)
      )
      yield* Effect.logInfo("provider sandbox started").pipe(
        Effect.annotateLogs({ provider: slot.name, version: slot.version, pid: sandbox.pid })
      )
      return sandbox
    })

  const ensure = (slot: Slot) =>
    Effect.gen(function* () {
      if (slot.retired)
        return yield* Effect.fail(
          new ProviderRetryableError({ provider: slot.name, message: `${slot.label} ${slot.retired}; retry` })
        )
      if (slot.running) return slot.running.sandbox
      const wait = slot.restartAt - Date.now()
      if (wait > Duration.toMillis(limits.maxRestartWait))
        return yield* Effect.fail(
          new ProviderRetryableError({
            provider: slot.name,
            message: `the sandbox running ${slot.label} crashed ${slot.crashes} times in a row (last: ${slot.lastReason}); it restarts in ${seconds(Duration.millis(wait))}`,
            retryAfterMs: wait
          })
        )
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      return yield* launch(slot).pipe(
        Effect.catchTags({
          SandboxLoadError: (e) =>
            Effect.zipRight(
              crashed(slot, `could not load: ${e.message}`),
              Effect.fail(
                new ProviderRetryableError({
                  provider: slot.name,
                  message: `the sandbox could not load ${slot.label}: ${e.message}`
                })
              )
            ),
          SandboxSetupError: (e) => Effect.fail(new ServiceUnavailable({ message: e.message }))
        })
      )
    })

  /** A running sandbox of `active`, held (counted busy, never idle-stopped) until the scope closes. */
  const acquire = (active: ActiveVersion) =>
    Effect.gen(function* () {
      const slot = slotFor(active)
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          slot.busy += 1
          slot.lastUsed = Date.now()
        }),
        () =>
          Effect.sync(() => {
            slot.busy -= 1
            slot.lastUsed = Date.now()
          })
      )
      return yield* slot.lock.withPermits(1)(ensure(slot))
    })

  /** Stops every version of `name` except `keep` (all of them when `keep` is undefined). */
  const retireOthers = (name: string, keep: number | undefined, why?: string) =>
    Effect.forEach(
      [...slots].filter(([, s]) => s.name === name && s.version !== keep),
      ([key, slot]) => {
        slot.retired =
          keep === undefined
            ? `is no longer active (${why ?? "no active version"})`
            : `is no longer active (version ${keep} is)`
        slots.delete(key)
        return Effect.logInfo("provider sandbox retired").pipe(
          Effect.annotateLogs({ provider: name, version: slot.version, reason: slot.retired }),
          Effect.zipRight(stop(slot, `version ${slot.version} ${slot.retired}`))
        )
      },
      { discard: true }
    )

  const stopIdle = Effect.suspend(() => {
    const cutoff = Date.now() - Duration.toMillis(limits.idleTimeout)
    const idle = [...slots].filter(([, s]) => s.busy === 0 && s.lastUsed < cutoff)
    return Effect.forEach(
      idle,
      ([key, slot]) => {
        slots.delete(key)
        return stop(slot, `idle for ${seconds(limits.idleTimeout)}`)
      },
      { discard: true }
    )
  })

  /** Stops the running sandbox idle the longest, when another needs its place. */
  const stopLeastRecentlyUsed = Effect.suspend(() => {
    let oldest: [string, Slot] | undefined
    for (const entry of slots)
      if (entry[1].busy === 0 && entry[1].running && (!oldest || entry[1].lastUsed < oldest[1].lastUsed))
        oldest = entry
    if (!oldest) return Effect.succeed(false)
    const [key, slot] = oldest
    slots.delete(key)
    return stop(slot, "idle, and its place was needed by another sandbox").pipe(Effect.as(true))
  })
  yield* quota.onPressure(stopLeastRecentlyUsed)

  yield* Effect.addFinalizer(() =>
    Effect.forEach(slots.values(), (slot) => stop(slot, "DataHub is shutting down"), { discard: true })
  )

  return {
    acquire,
    retireOthers,
    stopIdle,
    names: Effect.sync(() => [...new Set([...slots.values()].map((s) => s.name))]),
    status: Effect.sync(() =>
      [...slots.values()].map(
        (s): SandboxStatus => ({
          name: s.name,
          version: s.version,
          pid: s.running?.sandbox.pid ?? null,
          crashes: s.crashes,
          lastReason: s.lastReason ?? null,
          busy: s.busy
        })
      )
    )
  } as const
})

export class SandboxSlots extends Context.Tag("@quasar/datahub/SandboxSlots")<
  SandboxSlots,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.scoped(SandboxSlots, make)
}
