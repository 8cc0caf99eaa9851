/**
 * SQL behind the catalogue DataHub reads (`CatalogApi`): a name's code, the names the Registry
 * knows, a provider's assets, the provider mappings, and the change events after a counter.
 */
import { SqlClient } from "@effect/sql"
import {
  type CatalogAsset,
  type CatalogCode,
  type CatalogMapping,
  type CodeKind,
  type CodeLanguage,
  CodeManifest,
  type CodeStatus
} from "@quasar/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { CATALOG_CHANNELS, type ChangeRow } from "./CatalogChanges"

interface CodeRow {
  readonly name: string
  readonly version: number
  readonly kind: CodeKind
  readonly status: CodeStatus
  readonly language: CodeLanguage
  readonly manifest: unknown
  readonly source: string
}

const decodeManifest = Schema.decodeUnknownOption(CodeManifest)

const toCode = (r: CodeRow): CatalogCode => ({
  name: r.name as CatalogCode["name"],
  version: r.version,
  kind: r.kind,
  status: r.status,
  language: r.language,
  manifest: Option.getOrNull(decodeManifest(r.manifest)),
  source: r.source
})

/** Most changes a single answer carries; the caller asks again from the last one. */
const MAX_CHANGES = 500

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`name, version, kind, status, language, manifest, source`

  /** The current version (active or disabled), else the newest: what a caller is told about. */
  const current = (name: string) =>
    sql<CodeRow>`SELECT ${columns} FROM registry.code_registry WHERE name = ${name}
      ORDER BY (status IN ('active', 'disabled')) DESC, version DESC LIMIT 1`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toCode)),
      Effect.withSpan("CatalogRepo.current", { attributes: { name } })
    )

  const version = (name: string, v: number) =>
    sql<CodeRow>`SELECT ${columns} FROM registry.code_registry WHERE name = ${name} AND version = ${v}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toCode)),
      Effect.withSpan("CatalogRepo.version", { attributes: { name, version: v } })
    )

  const providers = sql<{ name: string }>`
    SELECT name FROM registry.code_registry UNION SELECT DISTINCT provider FROM registry.assets ORDER BY 1`.pipe(
    Effect.map((rows) => rows.map((r) => r.name)),
    Effect.withSpan("CatalogRepo.providers")
  )

  const assets = (provider: string) =>
    sql<CatalogAsset>`SELECT symbol, asset_class AS "assetClass" FROM registry.assets
      WHERE provider = ${provider} ORDER BY symbol`.pipe(
      Effect.withSpan("CatalogRepo.assets", { attributes: { provider } })
    )

  const mappings = sql<CatalogMapping>`
    SELECT common_symbol AS "commonSymbol", source AS provider, symbol FROM registry.asset_mapping
    WHERE source_kind = 'provider' ORDER BY common_symbol, source`.pipe(
    Effect.withSpan("CatalogRepo.mappings")
  )

  /** The newest and oldest event ids kept, and the catalogue's events after `after`. */
  const changesAfter = (after: number) =>
    Effect.all({
      bounds: sql<{ latest: number; oldest: number }>`
        SELECT coalesce(max(id), 0)::int8 AS latest, coalesce(min(id), 0)::int8 AS oldest FROM registry.change_events`,
      rows: sql<ChangeRow>`
        SELECT id::int8 AS id, channel, payload->>'name' AS name FROM registry.change_events
        WHERE id > ${after} AND channel = ANY(${CATALOG_CHANNELS}::text[]) ORDER BY id LIMIT ${MAX_CHANGES}`
    }).pipe(
      Effect.map(({ bounds, rows }) => ({
        latest: Number(bounds[0]?.latest ?? 0),
        oldest: Number(bounds[0]?.oldest ?? 0),
        rows: rows.map((r) => ({ ...r, id: Number(r.id) })),
        full: rows.length === MAX_CHANGES
      }))
    )

  return { current, version, providers, assets, mappings, changesAfter } as const
})

export class CatalogRepo extends Context.Tag("@quasar/registry/CatalogRepo")<
  CatalogRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CatalogRepo, make)
}
