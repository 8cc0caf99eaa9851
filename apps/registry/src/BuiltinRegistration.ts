/**
 * Registers the built-in providers and brokers on start, through the same upload-and-validate path
 * that uploaded code takes. A new built-in version is activated when the name has no current version or
 * its current one is an older built-in; a user's own activated upload is left alone. DataHub
 * may start later than the Registry, so this retries until it answers.
 */
import { type CodeVersion, ServiceUnavailable, type VenueKind } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { Clock, Effect, Layer, Option, Schedule } from "effect"
import { BuiltinSources } from "./BuiltinSources"
import { CodeRegistry } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"

const STARTUP_GRACE_MS = 30_000

export const BuiltinRegistration = Layer.scopedDiscard(
  Effect.gen(function* () {
    const sources = yield* BuiltinSources
    const registry = yield* CodeRegistry
    const repo = yield* CodeRepo
    const schema = yield* SchemaState.SchemaState
    const started = yield* Clock.currentTimeMillis

    const registerOne = (name: CodeVersion["name"], kind: VenueKind, source: string) =>
      Effect.gen(function* () {
        const { version, created } = yield* registry.upload(
          name,
          { kind, language: "javascript", source },
          true
        )
        if (version.status !== "valid") {
          if (created)
            yield* Effect.logError(`built-in ${kind} failed validation`).pipe(
              Effect.annotateLogs({
                name,
                version: version.version,
                issues: version.validation?.issues ?? []
              })
            )
          return
        }
        const current = yield* repo.current(name)
        const replace = Option.match(current, {
          onNone: () => true,
          onSome: (c) => c.builtIn && c.status === "active" && c.version < version.version
        })
        if (replace) yield* registry.activate(name, version.version)
      }).pipe(Effect.annotateLogs({ [kind]: name }))

    yield* Effect.gen(function* () {
      yield* schema.ready
      const list = yield* sources.load.pipe(
        Effect.mapError((message) => new ServiceUnavailable({ message: `built-in code: ${message}` }))
      )
      yield* Effect.forEach(list, (b) => registerOne(b.name as CodeVersion["name"], b.kind, b.source), {
        discard: true
      })
      yield* Effect.logInfo("built-in providers and brokers registered").pipe(
        Effect.annotateLogs({ code: list.map((b) => b.name) })
      )
    }).pipe(
      // DataHub usually starts alongside and answers within seconds: that wait is expected, not
      // a warning, until it lasts.
      Effect.tapError((e) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          (now - started < STARTUP_GRACE_MS ? Effect.logInfo : Effect.logWarning)(
            "cannot register built-in code yet; retrying",
            { error: e.message }
          )
        )
      ),
      Effect.retry(
        Schedule.spaced("2 seconds").pipe(
          Schedule.whileInput((e: { _tag: string }) => e._tag === "ServiceUnavailable")
        )
      ),
      Effect.catchAllCause((cause) => Effect.logError("built-in code not registered", cause)),
      Effect.withSpan("BuiltinRegistration"),
      Effect.forkScoped
    )
  })
)
