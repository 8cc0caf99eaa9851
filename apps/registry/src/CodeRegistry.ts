/**
 * The code registry's rules: uploads become version n+1 (identical code returns the existing
 * version), every upload is validated by DataHub's sandbox before it can be activated, one
 * version per name is current, and a version in use cannot be deleted.
 */
import {
  type CodeKind,
  type CodeLanguage,
  type CodeVersion,
  Conflict,
  InvalidRequest,
  NotFound,
  rollbackTarget,
  ServiceUnavailable
} from "@quasar/domain"
import { ChangeFeed, ServiceConfig } from "@quasar/server"
import { Context, Effect, Either, Layer, Option } from "effect"
import { CODE_CHANNEL } from "./CatalogChanges"
import { CodeRepo, type SummaryRow } from "./CodeRepo"
import { DataHubClient } from "./DataHubClient"

export interface Upload {
  readonly kind: CodeKind
  readonly language: CodeLanguage
  readonly source: string
}

export { CODE_CHANNEL } from "./CatalogChanges"

const sha256Hex = (text: string) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join(""))
  )

export const toSummary = (r: SummaryRow) => ({
  name: r.name as CodeVersion["name"],
  kind: r.kind,
  displayName: r.display_name,
  activeVersion: r.current_status === "active" ? r.current_version : null,
  latestVersion: r.latest_version,
  disabled: r.current_status === "disabled",
  builtIn: r.built_in
})

type Name = CodeVersion["name"]

const make = Effect.gen(function* () {
  const repo = yield* CodeRepo
  const datahub = yield* DataHubClient
  const feed = yield* ChangeFeed.ChangeFeed
  const config = yield* ServiceConfig

  const mustExist =
    <A>(what: string) =>
    (o: Option.Option<A>) =>
      Option.match(o, {
        onNone: () => Effect.fail(new NotFound({ message: `${what} does not exist` })),
        onSome: Effect.succeed
      })

  const versionOf = (name: Name, v: number) =>
    Effect.flatMap(repo.version(name, v), mustExist(`version ${v} of "${name}"`))

  const validate = (name: Name, upload: Upload) =>
    datahub.sandbox.validate({ payload: { name, ...upload } }).pipe(
      Effect.mapError((e): InvalidRequest | ServiceUnavailable =>
        e._tag === "InvalidRequest"
          ? e
          : e._tag === "HttpApiDecodeError"
            ? new InvalidRequest({ message: e.message })
            : e._tag === "Unauthorized" || e._tag === "TooManyAttempts"
              ? new ServiceUnavailable({
                  message: `DataHub refused the Registry's service credential (${e.message}): set the same QUASAR_SERVICE_TOKEN on both services`
                })
              : new ServiceUnavailable({
                  message: `DataHub at ${config.datahubUrl} could not validate the code (${e.message}): start DataHub or set DATAHUB_URL`
                })
      )
    )

  const subscriptionsOf = (name: Name) =>
    datahub.codeUsage.usage({ path: { name } }).pipe(
      Effect.map((usage) => usage.subscriptions),
      Effect.mapError(
        (e) =>
          new ServiceUnavailable({
            message:
              e._tag === "Unauthorized" || e._tag === "TooManyAttempts"
                ? `DataHub refused the Registry's service credential (${e.message}): set the same QUASAR_SERVICE_TOKEN on both services`
                : `cannot ask DataHub at ${config.datahubUrl} whether subscriptions use "${name}" (${e.message}); nothing was deleted: retry once DataHub is up`
          })
      )
    )

  const upload = (name: Name, input: Upload, builtIn = false) =>
    Effect.gen(function* () {
      const sha256 = yield* sha256Hex(input.source)
      const existing = yield* repo.bySha(name, sha256)
      if (Option.isSome(existing)) return { version: existing.value, created: false }
      const other = yield* repo.summary(name)
      if (Option.isSome(other) && other.value.kind !== input.kind)
        return yield* Effect.fail(
          new Conflict({
            message: `"${name}" is a ${other.value.kind}; upload ${input.kind} code under another name`
          })
        )
      const { report, manifest } = yield* validate(name, input)
      const result = yield* repo.insert({
        name,
        ...input,
        sha256,
        manifest,
        status: report.ok ? "valid" : "invalid",
        validation: report,
        builtIn
      })
      // A new name becomes known to DataHub (bars, subscriptions) with its first upload.
      if (result.created) yield* feed.publish(CODE_CHANNEL, { event: "uploaded", name })
      yield* Effect.logInfo("code uploaded").pipe(
        Effect.annotateLogs({ name, version: result.version.version, status: result.version.status, builtIn })
      )
      return result
    }).pipe(Effect.withSpan("CodeRegistry.upload", { attributes: { name } }))

  const activate = (name: Name, v: number) =>
    Effect.gen(function* () {
      const target = yield* versionOf(name, v)
      if (target.status === "invalid" || target.status === "uploaded")
        return yield* Effect.fail(
          new Conflict({
            message: `version ${v} of "${name}" did not pass validation: ${
              target.validation?.issues.map((i) => i.message).join("; ") ?? "not validated"
            }. Upload a fixed version.`
          })
        )
      yield* repo.activate(name, v)
      yield* feed.publish(CODE_CHANNEL, { event: "activated", name, version: v, kind: target.kind })
      return yield* versionOf(name, v)
    }).pipe(Effect.withSpan("CodeRegistry.activate", { attributes: { name, version: v } }))

  const summaryOf = (name: Name) =>
    Effect.flatMap(repo.summary(name), mustExist(`"${name}"`)).pipe(Effect.map(toSummary))

  const disable = (name: Name) =>
    Effect.gen(function* () {
      yield* summaryOf(name)
      yield* repo.setCurrentStatus(name, "disabled")
      yield* feed.publish(CODE_CHANNEL, { event: "disabled", name })
      return yield* summaryOf(name)
    })

  const rollback = (name: Name) =>
    Effect.gen(function* () {
      const versions = yield* repo.versions(name)
      if (versions.length === 0)
        return yield* Effect.fail(new NotFound({ message: `"${name}" does not exist` }))
      const target = rollbackTarget(versions)
      if (Either.isLeft(target))
        return yield* Effect.fail(
          new Conflict({ message: `"${name}" cannot be rolled back: ${target.left}` })
        )
      return yield* activate(name, target.right.version)
    })

  const deleteVersion = (name: Name, v: number) =>
    Effect.gen(function* () {
      const target = yield* versionOf(name, v)
      // Only providers have subscriptions, and those are DataHub's to count.
      if (target.kind === "provider" && (target.status === "active" || target.status === "disabled")) {
        const n = yield* subscriptionsOf(name)
        if (n > 0)
          return yield* Effect.fail(
            new Conflict({
              message: `version ${v} of "${name}" is in use by ${n === 1 ? "1 subscription" : `${n} subscriptions`}: activate another version first, or delete ${n === 1 ? "that subscription" : "those subscriptions"}`
            })
          )
      }
      yield* repo.remove(name, v)
      yield* feed.publish(CODE_CHANNEL, { event: "deleted", name, version: v })
    })

  return { upload, activate, disable, rollback, deleteVersion, versionOf, summaryOf } as const
})

export class CodeRegistry extends Context.Tag("@quasar/registry/CodeRegistry")<
  CodeRegistry,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CodeRegistry, make).pipe(Layer.provide(CodeRepo.layer))
}
