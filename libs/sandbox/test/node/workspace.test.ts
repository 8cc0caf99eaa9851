/**
 * Sandbox directories do not outlive their service: its root goes when the workspace closes (or
 * the process exits), and roots left by a service killed outright go at the next start, while
 * those of services still running stay.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MODULE_FILE, RUNNER_FILE, removeStaleRoots, SandboxWorkspace } from "../../src/node/SandboxWorkspace"

const runner = fileURLToPath(new URL("../fixtures/echoRunner.ts", import.meta.url))

/** The pid of a process that has exited (and been reaped). */
const deadPid = (): number => {
  const run = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(run.stdout.toString())
}

it.effect("removes the roots of services that are gone, and only those", () =>
  Effect.gen(function* () {
    const parent = mkdtempSync(join(tmpdir(), "quasar-stale-test-"))
    const root = (name: string, owner?: string, ageMs = 0) => {
      const dir = join(parent, `quasar-sandbox-${name}`)
      mkdirSync(join(dir, "module-0"), { recursive: true })
      writeFileSync(join(dir, "module-0", MODULE_FILE), "export default 1")
      if (owner !== undefined) writeFileSync(join(dir, "owner.pid"), owner)
      const at = new Date(Date.now() - ageMs)
      utimesSync(dir, at, at)
      return dir
    }
    const gone = root("dead", String(deadPid()))
    const garbage = root("garbage", "not a pid")
    const oldUnowned = root("old", undefined, 48 * 3_600_000)
    const running = root("running", String(process.pid))
    const beingCreated = root("new")
    const other = join(parent, "someone-else")
    mkdirSync(other)
    try {
      expect(yield* removeStaleRoots(parent)).toBe(3)
      expect([gone, garbage, oldUnowned].map(existsSync)).toEqual([false, false, false])
      expect([running, beingCreated, other].map(existsSync)).toEqual([true, true, true])
      // Nothing left to remove: a second start removes nothing more.
      expect(yield* removeStaleRoots(parent)).toBe(0)
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  })
)

it.effect("a workspace's root names its owner and is removed when the workspace closes", () =>
  Effect.gen(function* () {
    const directory = yield* Effect.scoped(
      Effect.gen(function* () {
        const workspace = yield* SandboxWorkspace
        const dir = yield* workspace.prepare("fixture", "export default 1")
        const rootDir = dirname(dir)
        expect(readFileSync(join(rootDir, "owner.pid"), "utf8")).toBe(String(process.pid))
        expect(readFileSync(join(dir, MODULE_FILE), "utf8")).toBe("export default 1")
        expect(readFileSync(join(dir, RUNNER_FILE), "utf8")).toContain("Echoed")
        return rootDir
      })
    ).pipe(Effect.provide(SandboxWorkspace.layer(runner)))
    expect(existsSync(directory)).toBe(false)
  })
)
