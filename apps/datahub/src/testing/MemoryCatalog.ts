/**
 * The Registry's catalogue held in memory, for tests that run DataHub alone: code, settings
 * (secrets already open), assets and mappings are put here as the Registry would leave them,
 * each put counting as a change the catalogue's watch hears of, exactly as over HTTP. A put
 * returns once the catalogue has applied it. `setReachable(false)` makes every read fail as an
 * unreachable Registry does.
 */
import {
  type AssetClass,
  type CatalogChange,
  type CatalogCode,
  type CatalogMapping,
  type CodeLanguage,
  type CodeManifest,
  type CodeStatus,
  type ProviderName,
  ServiceUnavailable
} from "@quasar/domain"
import { Context, Duration, Effect, Layer, Option, Ref, Stream, SubscriptionRef } from "effect"
import type { CatalogSource } from "../catalog/CatalogSource"
import { make as makeCatalog, RegistryCatalog } from "../catalog/RegistryCatalog"

export interface CodeEntry {
  readonly name: string
  readonly version: number
  readonly kind?: CatalogCode["kind"]
  readonly status: CodeStatus
  readonly language?: CodeLanguage
  /** The manifest as validation returned it; null or absent when it never validated. */
  readonly manifest?: CodeManifest | null
  readonly source: string
}

interface State {
  readonly code: ReadonlyArray<CatalogCode>
  readonly settings: ReadonlyMap<string, Readonly<Record<string, string | number | boolean>>>
  readonly assets: ReadonlyMap<
    string,
    ReadonlyArray<{ readonly symbol: string; readonly assetClass: AssetClass }>
  >
  readonly mappings: ReadonlyArray<CatalogMapping>
  readonly events: ReadonlyArray<CatalogChange>
  readonly reachable: boolean
}

const empty: State = {
  code: [],
  settings: new Map(),
  assets: new Map(),
  mappings: [],
  events: [],
  reachable: true
}

const make = Effect.gen(function* () {
  const state = yield* SubscriptionRef.make(empty)
  const down = new ServiceUnavailable({ message: "the Registry is unreachable (MemoryCatalog)" })
  const read = <A>(f: (s: State) => A) =>
    Effect.flatMap(Ref.get(state), (s) => (s.reachable ? Effect.succeed(f(s)) : Effect.fail(down)))

  const currentOf = (s: State, name: string) =>
    Option.fromNullable(
      s.code
        .filter((c) => c.name === name)
        .toSorted(
          (a, b) =>
            Number(b.status === "active" || b.status === "disabled") -
              Number(a.status === "active" || a.status === "disabled") || b.version - a.version
        )[0]
    )

  const source: CatalogSource = {
    changes: (after, waitMs) =>
      Effect.gen(function* () {
        const now = yield* Ref.get(state)
        if (!now.reachable) return yield* Effect.fail(down)
        if (after === undefined || after > now.events.length)
          return { cursor: now.events.length, reset: true, changes: [] }
        yield* state.changes.pipe(
          Stream.filter((s) => !s.reachable || s.events.length > after),
          Stream.take(1),
          Stream.runDrain,
          Effect.timeout(Duration.millis(waitMs)),
          Effect.ignore
        )
        const s = yield* Ref.get(state)
        if (!s.reachable) return yield* Effect.fail(down)
        return { cursor: s.events.length, reset: false, changes: s.events.slice(after) }
      }),
    current: (name) => read((s) => currentOf(s, name)),
    version: (name, version) =>
      read((s) => Option.fromNullable(s.code.find((c) => c.name === name && c.version === version))),
    settings: (name) =>
      read((s) => ({ name: name as ProviderName, values: { ...s.settings.get(name) }, unopened: [] })),
    providers: read((s) => [...new Set([...s.code.map((c) => c.name), ...s.assets.keys()])]),
    assets: (provider) => read((s) => s.assets.get(provider) ?? []),
    mappings: read((s) => s.mappings)
  }

  const { catalog, cursor } = yield* makeCatalog(source)

  /** Applies `f` as one change, then waits until the catalogue has applied it. */
  const change = (event: CatalogChange, f: (s: State) => Omit<State, "events" | "reachable">) =>
    Effect.gen(function* () {
      const next = yield* SubscriptionRef.modify(state, (s) => {
        const events = [...s.events, event]
        return [events.length, { ...s, ...f(s), events }]
      })
      yield* cursor.changes.pipe(
        Stream.filter((c) => c !== undefined && c >= next),
        Stream.take(1),
        Stream.runDrain
      )
    })

  const fixture = {
    /** Stores a version; an active or disabled one makes the name's other current version valid. */
    putCode: (entry: CodeEntry) =>
      change({ topic: "code", name: entry.name }, (s) => {
        const code: CatalogCode = {
          name: entry.name as ProviderName,
          version: entry.version,
          kind: entry.kind ?? "provider",
          status: entry.status,
          language: entry.language ?? "javascript",
          manifest: entry.manifest ?? null,
          source: entry.source
        }
        const current = entry.status === "active" || entry.status === "disabled"
        const others = s.code
          .filter((c) => !(c.name === entry.name && c.version === entry.version))
          .map((c) =>
            current && c.name === entry.name && (c.status === "active" || c.status === "disabled")
              ? { ...c, status: "valid" as const }
              : c
          )
        return { ...s, code: [...others, code] }
      }),
    /** Changes the status of every version of `name` in `from` (a disable, a deactivation). */
    setStatus: (name: string, from: ReadonlyArray<CodeStatus>, to: CodeStatus) =>
      change({ topic: "code", name }, (s) => ({
        ...s,
        code: s.code.map((c) => (c.name === name && from.includes(c.status) ? { ...c, status: to } : c))
      })),
    putSettings: (name: string, values: Readonly<Record<string, string | number | boolean>>) =>
      change({ topic: "code", name }, (s) => ({ ...s, settings: new Map([...s.settings, [name, values]]) })),
    putAssets: (
      provider: string,
      assets: ReadonlyArray<{ readonly symbol: string; readonly assetClass: AssetClass }>
    ) =>
      change({ topic: "assets", name: provider }, (s) => ({
        ...s,
        assets: new Map([...s.assets, [provider, assets]])
      })),
    putMapping: (mapping: CatalogMapping) =>
      change({ topic: "mappings" }, (s) => ({
        ...s,
        mappings: [
          ...s.mappings.filter((m) => !(m.provider === mapping.provider && m.symbol === mapping.symbol)),
          mapping
        ]
      })),
    /** Down: every read and wait fails, as when the Registry is stopped; up: it answers again. */
    setReachable: (reachable: boolean) => SubscriptionRef.update(state, (s) => ({ ...s, reachable }))
  }
  return { catalog, fixture }
})

export class MemoryCatalog extends Context.Tag("@quasar/datahub/testing/MemoryCatalog")<
  MemoryCatalog,
  Effect.Effect.Success<typeof make>["fixture"]
>() {
  /** The catalogue (RegistryCatalog) and the handle that fills it (MemoryCatalog). */
  static readonly layer = Layer.scopedContext(
    Effect.map(make, ({ catalog, fixture }) =>
      Context.make(RegistryCatalog, catalog).pipe(Context.add(MemoryCatalog, fixture))
    )
  )
}
