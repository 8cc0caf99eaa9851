import { Effect, Layer, Logger, LogLevel } from "effect"
import { Validator } from "../apps/datahub/src/sandbox/Validator"
import { SandboxWorkspace } from "../apps/datahub/src/sandbox/SandboxWorkspace"
import { SandboxLimits } from "../apps/datahub/src/sandbox/SandboxLimits"
import { hostile } from "../apps/datahub/test/sandbox/fixtures/modules"

const layer = Validator.layer.pipe(Layer.provideMerge(SandboxWorkspace.layer), Layer.provideMerge(SandboxLimits.layer()))
const prog = Effect.gen(function* () {
  const v = yield* Validator
  const t = Date.now()
  const tick = setInterval(() => console.log("tick", Date.now() - t), 1000)
  const r = yield* v.validate("hostile", "provider", "javascript", hostile[process.argv[2] as "loopAtImport"])
  clearInterval(tick)
  console.log("took", Date.now() - t, JSON.stringify(r.report.issues))
})
Effect.runPromise(prog.pipe(Effect.provide(layer), Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Debug))).then(() => console.log("done"), (e) => console.error("failed", e))
