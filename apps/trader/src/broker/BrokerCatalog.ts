/**
 * Where the sandboxed BrokerHost gets a broker's code and its account settings: the active version
 * of the broker code and its stored settings, secrets opened by the Registry (the only holder of
 * QUASAR_SECRET_KEY) on the internal catalog channel. The settings are resolved here against the
 * version's manifest (defaults applied, every problem named), so the child gets them ready to use,
 * and the hosts its URL settings name are the only ones its code may reach.
 */
import type { CatalogCode, OpenedSettings, ServiceUnavailable } from "@quasar/domain"
import { formatSettingsProblems, resolveSettings } from "@quasar/providers/host"
import { Context, Effect, Either, Layer, Option } from "effect"
import { type BrokerError, BrokerRejected, BrokerUnavailable } from "./BrokerHost"
import type { CallSettings } from "./sandbox/protocol"

export interface OpenedBroker {
  readonly name: string
  readonly version: number
  readonly language: CatalogCode["language"]
  readonly source: string
  readonly settings: CallSettings
  /** The hosts its URL settings name: the only ones its code may reach (see the egress policy). */
  readonly hosts: ReadonlyArray<string>
}

const hostOf = (value: unknown): ReadonlyArray<string> => {
  try {
    return typeof value === "string" ? [new URL(value).hostname] : []
  } catch {
    return []
  }
}

/** What the catalogue answers: the Registry over HTTP, or memory in tests. */
export interface CatalogReader {
  readonly current: (name: string) => Effect.Effect<Option.Option<CatalogCode>, ServiceUnavailable>
  readonly settings: (name: string) => Effect.Effect<OpenedSettings, ServiceUnavailable>
}

const unavailable = (broker: string) => (e: ServiceUnavailable) =>
  new BrokerUnavailable({ broker, reason: "unavailable", message: e.message })

const rejected = (broker: string, reason: string, message: string) =>
  new BrokerRejected({ broker, reason, message })

/** The active broker `name` with its resolved settings, or why it cannot be opened. */
export const openFrom =
  (reader: CatalogReader) =>
  (name: string): Effect.Effect<OpenedBroker, BrokerError> =>
    Effect.gen(function* () {
      const current = yield* reader.current(name).pipe(Effect.mapError(unavailable(name)))
      if (Option.isNone(current) || current.value.kind !== "broker")
        return yield* rejected(name, "unknownBroker", `no broker code is named ${name}; upload it first`)
      const code = current.value
      if (code.status !== "active" || code.manifest === null || code.manifest.kind !== "broker")
        return yield* rejected(
          name,
          "notActive",
          `broker ${name} has no active version (version ${code.version} is ${code.status}); activate a valid version`
        )
      const stored = yield* reader.settings(name).pipe(Effect.mapError(unavailable(name)))
      const [sealed] = stored.unopened
      if (sealed !== undefined)
        return yield* rejected(
          name,
          "invalidSettings",
          `the setting ${sealed.key} of ${name} cannot be opened (${sealed.message}); enter it again in the Registry`
        )
      const spec = Object.fromEntries(code.manifest.settings.map(({ key, ...field }) => [key, field]))
      const resolved = resolveSettings(spec, stored.values)
      if (Either.isLeft(resolved))
        return yield* rejected(
          name,
          "invalidSettings",
          `the settings of ${name} are not valid: ${formatSettingsProblems(resolved.left)}; fix them in the Registry`
        )
      return {
        name,
        version: code.version,
        language: code.language,
        source: code.source,
        settings: resolved.right as CallSettings,
        hosts: code.manifest.settings
          .filter((field) => field.type === "url")
          .flatMap((field) => hostOf(resolved.right[field.key]))
      }
    }).pipe(Effect.withSpan("BrokerCatalog.open", { attributes: { broker: name } }))

export class BrokerCatalog extends Context.Tag("@quasar/trader/BrokerCatalog")<
  BrokerCatalog,
  { readonly open: (name: string) => Effect.Effect<OpenedBroker, BrokerError> }
>() {
  static readonly fromReader = (reader: CatalogReader) =>
    Layer.succeed(BrokerCatalog, { open: openFrom(reader) })
}
