/**
 * What sandboxes may use together and each: a cap on how many run at once, and per child a CPU
 * budget and a memory cap enforced by the kernel where the host may create cgroups (v1 `cpu` and
 * `memory` hierarchies, or v2), under the cgroup the host itself runs in. Where it may not, the
 * child's CPU and memory are sampled from /proc and it is killed past them (SandboxProcess).
 * The start log says which mechanism is active.
 *
 * A child is placed in its groups before it receives its token (childInit.ts), and the runner
 * loads no uploaded code before that: uploaded code never runs outside its limits.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Clock, Context, Duration, Effect, Layer, Option, Schedule, type Scope } from "effect"
import { SandboxSetupError } from "../errors"
import { SandboxLimits, type SandboxLimitValues, seconds } from "../SandboxLimits"

export type Mechanism = "cgroup v1" | "cgroup v2" | "sampling"

/** One child's groups, created before it starts and removed after it is gone. */
export interface Placement {
  /** Moves `pid` and every process under it into the groups (synchronous: before the token goes out). */
  readonly enter: (pid: number) => ReadonlyArray<number>
  /** True once the kernel killed something in the group for using more memory than its cap. */
  readonly outOfMemory: () => boolean
}

export interface SandboxQuotaService {
  readonly cpu: Mechanism
  readonly memory: Mechanism
  /**
   * A place among `maxConcurrent` for the scope's lifetime. When none is free, the reclaimers are
   * asked to stop an idle sandbox first (an idle provider must not keep a validation waiting, say);
   * fails past `admissionWait`.
   */
  readonly admit: (
    label: string,
    owner: Readonly<Record<string, string>>
  ) => Effect.Effect<void, SandboxSetupError, Scope.Scope>
  /** Registers a way to free a place: it stops one idle sandbox and says whether it did. */
  readonly onPressure: (reclaim: Effect.Effect<boolean>) => Effect.Effect<void>
  readonly place: (label: string) => Effect.Effect<Placement, never, Scope.Scope>
}

const CFS_PERIOD_US = 100_000
const MB = 1024 * 1024

/** A cgroup directory the host can create children in, for one resource. */
interface Hierarchy {
  readonly version: 1 | 2
  /** The host's own directory for its sandboxes (`quasar-sandboxes-<pid>`). */
  readonly root: string
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Where the host's process sits in each hierarchy, from /proc/self/cgroup. */
const ownGroups = (): Array<{ readonly controllers: ReadonlyArray<string>; readonly path: string }> =>
  readFileSync("/proc/self/cgroup", "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [, controllers = "", ...rest] = line.split(":")
      return { controllers: controllers === "" ? [] : controllers.split(","), path: rest.join(":") }
    })

/**
 * Creates `dir` and writes `file` in it, which must already exist: the kernel creates a
 * group's control files with it, so a plain directory does not pass for a cgroup.
 */
const probe = (dir: string, file: string, value: string) => {
  mkdirSync(dir)
  writeFileSync(join(dir, file), value, { flag: "r+" })
}

const forget = (dir: string) => {
  try {
    rmdirSync(dir)
  } catch {
    // Never created.
  }
}

/**
 * Groups left by a service that died without removing them. `rmdir` refuses a group that still
 * holds processes, so a live service's groups are never removed, whatever its pid means here.
 */
const removeStale = (parent: string) => {
  try {
    for (const entry of readdirSync(parent)) {
      const pid = /^quasar-sandboxes-(\d+)$/.exec(entry)?.[1]
      if (pid === undefined || existsSync(`/proc/${pid}`)) continue
      const dir = join(parent, entry)
      for (const child of readdirSync(dir, { withFileTypes: true }))
        if (child.isDirectory()) forget(join(dir, child.name))
      forget(dir)
    }
  } catch {
    // Not a hierarchy the host can use; findHierarchy says why.
  }
}

/** The host's sandbox directory for `controller` (v1 first, then v2), or why there is none. */
const findHierarchy = (cgroupRoot: string, controller: "cpu" | "memory"): Hierarchy | string => {
  const name = `quasar-sandboxes-${process.pid}`
  const problems: Array<string> = []
  try {
    const groups = ownGroups()
    const v1 = groups.find((g) => g.controllers.includes(controller))
    if (v1) {
      const parent = join(cgroupRoot, v1.controllers.join(","), v1.path)
      const root = join(parent, name)
      removeStale(parent)
      try {
        if (controller === "cpu") probe(root, "cpu.cfs_quota_us", "-1")
        else probe(root, "memory.limit_in_bytes", "-1")
        return { version: 1, root }
      } catch (e) {
        forget(root)
        problems.push(`cgroup v1 ${controller}: ${messageOf(e)}`)
      }
    }
    const v2 = groups.find((g) => g.controllers.length === 0)
    if (v2) {
      const base = join(cgroupRoot, v2.path)
      const root = join(base, name)
      removeStale(base)
      try {
        const available = readFileSync(join(base, "cgroup.controllers"), "utf8").split(/\s+/)
        if (!available.includes(controller)) throw new Error(`the ${controller} controller is not delegated`)
        probe(root, "cgroup.subtree_control", `+${controller}`)
        return { version: 2, root }
      } catch (e) {
        forget(root)
        problems.push(`cgroup v2 ${controller}: ${messageOf(e)}`)
      }
    }
  } catch (e) {
    problems.push(messageOf(e))
  }
  return problems.join("; ") || "no cgroup hierarchy found"
}

/** Every process under `pid` (a launcher such as `unshare` forks the child it runs). */
export const descendants = (pid: number): Array<number> => {
  const parents = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    const child = Number(entry)
    if (!Number.isInteger(child)) continue
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${child}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), child])
    } catch {
      // Gone meanwhile.
    }
  }
  const found: Array<number> = []
  const visit = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      found.push(c)
      visit(c)
    }
  }
  visit(pid)
  return found
}

const safe = (label: string) => label.replace(/[^a-zA-Z0-9_-]+/g, "-").slice(0, 60)

const removeGroup = (dir: string) =>
  Effect.try(() => rmdirSync(dir)).pipe(
    // A group empties once the kernel has reaped its processes, a moment after they exit (real
    // time, also where a test controls the clock).
    Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 40 }),
    Effect.withClock(Clock.make()),
    Effect.catchAll((e) =>
      Effect.logWarning("could not remove a sandbox cgroup").pipe(
        Effect.annotateLogs({ dir, error: messageOf(e) })
      )
    )
  )

const limitFiles = (
  h: Hierarchy,
  resource: "cpu" | "memory",
  limits: SandboxLimitValues
): ReadonlyArray<readonly [string, string]> => {
  if (resource === "cpu") {
    const quota = Math.max(1000, Math.round((CFS_PERIOD_US * limits.cpuPercent) / 100))
    return h.version === 1
      ? [
          ["cpu.cfs_period_us", String(CFS_PERIOD_US)],
          ["cpu.cfs_quota_us", String(quota)]
        ]
      : [["cpu.max", `${quota} ${CFS_PERIOD_US}`]]
  }
  const bytes = String(limits.rssMb * MB)
  // Without swap accounting limited too, v1 would swap the excess out instead of refusing it.
  return h.version === 1
    ? [
        ["memory.limit_in_bytes", bytes],
        ["memory.memsw.limit_in_bytes", bytes]
      ]
    : [
        ["memory.max", bytes],
        ["memory.swap.max", "0"]
      ]
}

/** The kernel's count of OOM kills in a group (v1 `memory.oom_control`, v2 `memory.events`). */
const oomKills = (h: Hierarchy, dir: string): number => {
  try {
    const text = readFileSync(join(dir, h.version === 1 ? "memory.oom_control" : "memory.events"), "utf8")
    const kills = /^oom_kill (\d+)$/m.exec(text)?.[1]
    if (kills !== undefined) return Number(kills)
    return h.version === 1 && Number(readFileSync(join(dir, "memory.failcnt"), "utf8")) > 0 ? 1 : 0
  } catch {
    return 0
  }
}

export interface QuotaOptions {
  /** Where the cgroup hierarchies are mounted; tests point it elsewhere to get the sampling fallback. */
  readonly cgroupRoot?: string
}

const make = (options: QuotaOptions) =>
  Effect.gen(function* () {
    const limits = yield* SandboxLimits
    const cgroupRoot = options.cgroupRoot ?? "/sys/fs/cgroup"
    const cpuHierarchy = findHierarchy(cgroupRoot, "cpu")
    const memoryHierarchy = findHierarchy(cgroupRoot, "memory")
    const hierarchies = { cpu: cpuHierarchy, memory: memoryHierarchy }
    const mechanism = (h: Hierarchy | string): Mechanism =>
      typeof h === "string" ? "sampling" : h.version === 1 ? "cgroup v1" : "cgroup v2"
    for (const h of [cpuHierarchy, memoryHierarchy])
      if (typeof h !== "string") yield* Effect.addFinalizer(() => removeGroup(h.root))
    const places = yield* Effect.makeSemaphore(limits.maxConcurrent)
    let next = 0

    yield* Effect.logInfo("sandbox limits").pipe(
      Effect.annotateLogs({
        cpu: mechanism(cpuHierarchy),
        cpuPercent: limits.cpuPercent,
        memory: mechanism(memoryHierarchy),
        memoryMb: limits.rssMb,
        maxConcurrent: limits.maxConcurrent,
        ...(typeof cpuHierarchy === "string" ? { cpuFallbackBecause: cpuHierarchy } : {}),
        ...(typeof memoryHierarchy === "string" ? { memoryFallbackBecause: memoryHierarchy } : {})
      })
    )

    const reclaimers: Array<Effect.Effect<boolean>> = []
    /** Asks the reclaimers in turn until one stopped an idle sandbox. */
    const reclaim = Effect.suspend(() =>
      Effect.reduce(reclaimers, false, (done, r) => (done ? Effect.succeed(true) : r))
    )
    // The wait is interruptible (it times out); taking the place and owning its release are not split.
    const takeWithin = (wait: Duration.DurationInput) =>
      Effect.uninterruptibleMask((restore) =>
        restore(places.take(1).pipe(Effect.timeoutOption(wait))).pipe(
          Effect.tap((taken) =>
            Option.isSome(taken) ? Effect.addFinalizer(() => places.release(1)) : Effect.void
          )
        )
      )

    const admit = (label: string, owner: Readonly<Record<string, string>>) =>
      takeWithin(Duration.millis(20)).pipe(
        Effect.flatMap((taken) =>
          Option.isSome(taken)
            ? Effect.succeed(taken)
            : Effect.zipRight(reclaim, takeWithin(limits.admissionWait))
        ),
        Effect.flatMap((taken) =>
          Option.isSome(taken)
            ? Effect.void
            : Effect.logWarning("sandbox refused: all places taken").pipe(
                Effect.annotateLogs({ ...owner, sandbox: label, maxConcurrent: limits.maxConcurrent }),
                Effect.zipRight(
                  Effect.fail(
                    new SandboxSetupError({
                      message: `all ${limits.maxConcurrent} sandbox places stayed taken for ${seconds(limits.admissionWait)} (QUASAR_SANDBOX_MAX_CONCURRENT); retry shortly`
                    })
                  )
                )
              )
        )
      )

    const place = (label: string): Effect.Effect<Placement, never, Scope.Scope> =>
      Effect.gen(function* () {
        const name = `${safe(label)}-${next++}`
        const dirs: Array<{
          readonly h: Hierarchy
          readonly dir: string
          readonly resource: "cpu" | "memory"
        }> = []
        for (const resource of ["cpu", "memory"] as const) {
          const h = hierarchies[resource]
          if (typeof h === "string") continue
          const dir = join(h.root, name)
          const made = yield* Effect.sync(() => {
            try {
              mkdirSync(dir)
              for (const [file, value] of limitFiles(h, resource, limits)) {
                try {
                  writeFileSync(join(dir, file), value, { flag: "r+" })
                } catch (e) {
                  // Swap accounting is often off (no memsw / swap.max files): the main limit still holds.
                  if (!file.includes("sw")) throw e
                }
              }
              return true
            } catch (e) {
              return messageOf(e)
            }
          })
          if (made === true) {
            dirs.push({ h, dir, resource })
            yield* Effect.addFinalizer(() => removeGroup(dir))
          } else
            yield* Effect.logError("could not create a sandbox cgroup; this child runs without it").pipe(
              Effect.annotateLogs({ sandbox: label, dir, error: made })
            )
        }
        return {
          enter: (pid: number) => {
            if (dirs.length === 0) return [pid]
            const pids = [pid]
            for (const { dir } of dirs) writeFileSync(join(dir, "cgroup.procs"), String(pid), { flag: "r+" })
            // A launcher's children forked before the move stay behind unless moved too.
            for (const child of descendants(pid)) {
              pids.push(child)
              for (const { dir } of dirs)
                try {
                  writeFileSync(join(dir, "cgroup.procs"), String(child), { flag: "r+" })
                } catch {
                  // Gone meanwhile.
                }
            }
            return pids
          },
          outOfMemory: () =>
            dirs.some(({ h, dir, resource }) => resource === "memory" && oomKills(h, dir) > 0)
        } satisfies Placement
      })

    return {
      cpu: mechanism(cpuHierarchy),
      memory: mechanism(memoryHierarchy),
      admit,
      onPressure: (r: Effect.Effect<boolean>) => Effect.sync(() => void reclaimers.push(r)),
      place
    } satisfies SandboxQuotaService
  })

export class SandboxQuota extends Context.Tag("@quasar/sandbox/SandboxQuota")<
  SandboxQuota,
  SandboxQuotaService
>() {
  static readonly layer = (options: QuotaOptions = {}) => Layer.scoped(SandboxQuota, make(options))
}

/** CPU time of `pids` in clock ticks (utime + stime), from /proc; gone processes count 0. */
export const cpuTicks = (pids: ReadonlyArray<number>): number =>
  pids.reduce((sum, pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return sum + Number(fields[11]) + Number(fields[12])
    } catch {
      return sum
    }
  }, 0)

/** Linux reports CPU time in ticks of 1/100 s on every common configuration. */
export const TICKS_PER_SECOND = 100
