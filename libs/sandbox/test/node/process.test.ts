/**
 * The library's sandbox with the smallest runner (fixtures/echoRunner.ts): the verdict carries
 * the runner's token and the module's answer, calls are answered by id, a message outside the
 * app's protocol gets the child killed, and closing the scope kills the child.
 */
import { fileURLToPath } from "node:url"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { LoadFailed, Log, loadedMessage, Pong, SandboxLimits } from "../../src/index"
import { bundleUpload } from "../../src/node/bundle"
import { detectIsolation } from "../../src/node/SandboxIsolation"
import { start } from "../../src/node/SandboxProcess"
import { SandboxQuota } from "../../src/node/SandboxQuota"
import { SandboxWorkspace } from "../../src/node/SandboxWorkspace"

const Echoed = Schema.TaggedStruct("Echoed", { id: Schema.Int, value: Schema.Unknown })
const ChildMessage = Schema.Union(loadedMessage({ value: Schema.Unknown }), LoadFailed, Log, Pong, Echoed)
type ChildMessage = typeof ChildMessage.Type
type HostMessage = { readonly _tag: "Echo"; readonly id: number; readonly value: unknown }

const runner = fileURLToPath(new URL("../fixtures/echoRunner.ts", import.meta.url))

const sandboxes = Layer.mergeAll(SandboxWorkspace.layer(runner), SandboxQuota.layer()).pipe(
  Layer.provideMerge(SandboxLimits.layer()),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
)

const run = (source: string) =>
  Effect.gen(function* () {
    const workspace = yield* SandboxWorkspace
    const bundled = yield* bundleUpload(source, "javascript")
    const directory = yield* workspace.prepare("echo", bundled.code)
    const isolation = yield* detectIsolation
    return yield* start<ChildMessage, HostMessage>({
      label: "echo",
      owner: { test: "echo" },
      directory,
      isolation,
      heartbeat: false,
      decode: Schema.decodeUnknownEither(ChildMessage),
      onLog: () => undefined
    })
  })

layer(sandboxes, { timeout: 30_000 })("the generic sandbox", (it) => {
  it.scoped("loads a module, answers by call id, and is killed when its scope closes", () =>
    Effect.gen(function* () {
      const child = yield* run("export default 42")
      expect(child.loaded.value).toBe(42)
      const id = child.nextId()
      const reply = yield* child.exchange(id, { _tag: "Echo", id, value: [1, "two"] })
      expect(reply).toEqual({ _tag: "Echoed", id, value: [1, "two"] })
      expect(yield* child.responsive("2 seconds")).toBe(true)
      yield* child.stop("done")
      expect(yield* child.exited).toBe("done")
    })
  )

  it.scoped("a module that throws while loading is a load error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(run(`throw new Error("broken on purpose")\nexport default 1`))
      expect(error).toMatchObject({ _tag: "SandboxLoadError" })
      expect(String((error as { readonly message?: unknown }).message)).toContain("broken on purpose")
    })
  )

  it.scoped("a message outside the protocol gets the child killed", () =>
    Effect.gen(function* () {
      const child = yield* run(
        `setTimeout(() => process.send({ _tag: "Surprise", id: 1 }), 50)\nexport default 1`
      )
      expect(yield* child.exited).toMatch(/^sent a malformed message/)
    })
  )
})
