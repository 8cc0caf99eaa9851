/**
 * Hostile uploads: each is contained and reported with a reason that says what it did, and
 * DataHub answers /health with 200 after every one of them.
 */
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { hostile } from "./fixtures/modules"
import { expectHealthy, messages, testApp, validate } from "./support"

const rejected = (source: string) =>
  Effect.gen(function* () {
    const { report, manifest } = yield* validate("hostile", source)
    expect(report.ok).toBe(false)
    expect(manifest).toBeNull()
    yield* expectHealthy
    return messages(report)
  })

layer(testApp, { timeout: 90_000, excludeTestServices: true })("hostile uploads", (it) => {
  it.effect("a loop at import is killed at the load timeout", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.loopAtImport)).toBe("the module did not finish loading within 5 s")
    })
  )

  it.effect("unbounded allocation hits the heap cap", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.allocate)).toBe("the module ran out of memory (heap cap 96 MB)")
    })
  )

  it.effect("process.exit(3) is reported with its code", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.exit3)).toBe("the module exited with code 3 while loading")
    })
  )

  it.effect("reading /etc/passwd is denied", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.readPasswd)).toMatch(
        /^the module threw while loading \(line 1, column \d+\): the sandbox denied FileSystemRead access to \/etc\/passwd/
      )
    })
  )

  it.effect("writing a file is denied and nothing is written", () =>
    Effect.gen(function* () {
      const target = join(tmpdir(), `quasar-sandbox-pwned-${process.pid}`)
      expect(yield* rejected(hostile.writeFile(target))).toContain(
        "the sandbox denied FileSystemWrite access"
      )
      expect(existsSync(target)).toBe(false)
    })
  )

  it.effect("spawning a process is denied", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.spawn)).toContain("the sandbox denied ChildProcess")
    })
  )

  it.effect("starting a worker is denied", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.worker)).toContain("the sandbox denied WorkerThreads")
    })
  )

  it.effect("flooding stdout gets the child killed", () =>
    Effect.gen(function* () {
      // Under load the host reads the pipe late and the child's garbage grows meanwhile: whichever
      // limit it reaches first kills it, the output budget or the memory caps.
      expect(yield* rejected(hostile.floodStdout)).toMatch(
        /^the module (flooded stdout \(more than 1 MB within 10 s\)|ran out of memory \(heap cap \d+ MB\)|used more than \d+ MB of memory)$/
      )
    })
  )

  it.effect("a malformed message to the host gets the child killed", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.malformedMessage)).toMatch(
        /^the module sent a malformed message: .*not a number/
      )
    })
  )

  it.effect("provider code cannot forge the runner's verdict", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.forgedLoaded)).toBe(
        "the module sent a malformed message: a forged Loaded"
      )
    })
  )

  it.effect("signalling DataHub is not possible", () =>
    Effect.gen(function* () {
      expect(yield* rejected(hostile.killParent)).toContain("process.kill is not available in the sandbox")
    })
  )
})
