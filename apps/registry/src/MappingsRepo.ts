/**
 * SQL for `asset_mapping`. The two uniqueness rules are constraints of the table (primary key
 * (source, symbol), unique (common_symbol, source)); writers also take a table lock that only
 * conflicts with other writers, so the checks that name the existing mapping in a 409 see the
 * rows the write will meet, while reads carry on.
 */
import { SqlClient } from "@effect/sql"
import {
  AssetMapping,
  type BulkResult,
  type CodeKind,
  Conflict,
  type MappingInput,
  NotFound
} from "@quasar/domain"
import { ChangeFeed } from "@quasar/server"
import { Array as Arr, Context, Effect, Layer, Schema } from "effect"
import { MAPPINGS_CHANNEL } from "./CatalogChanges"
import { type MappingIndex, mappingIndex, type SuggestionAsset } from "./MappingSuggestions"

const decodeMappings = Schema.decodeUnknown(Schema.Array(AssetMapping))
const CHUNK = 5_000

/*
 * Refusals say what to do in the words of the mappings themselves, not as HTTP routes: the UI
 * shows them as they are, and an API user knows which call removes or edits a mapping.
 */

export const describeTaken = (commonSymbol: string, source: string, symbol: string) =>
  `${commonSymbol} already maps to ${source} symbol ${symbol} (a common symbol has at most one symbol per source): ` +
  `remove the mapping of ${source} ${symbol} first, or choose another common symbol`

export const unknownSource = (source: string) =>
  `unknown source ${source}: no provider or broker code has that name; upload its code first, or check the spelling`

/** A strategy trades common symbols through the mappings; it has no symbols of its own to map. */
export const strategySource = (source: string) =>
  `${source} is a strategy, not a source of symbols: map a provider's or broker's symbols instead`

/** The fate of one input row of a bulk write, decided against what is stored and what came before it. */
const decide = (
  index: MappingIndex,
  kinds: ReadonlyMap<string, CodeKind>,
  m: MappingInput
): "created" | "unchanged" | string => {
  const kind = kinds.get(m.source)
  if (kind === undefined) return unknownSource(m.source)
  if (kind === "strategy") return strategySource(m.source)
  const current = index.commonOf(m.source, m.symbol)
  if (current === m.commonSymbol) return "unchanged"
  if (current !== undefined)
    return `${m.source} symbol ${m.symbol} already maps to ${current}: adding in bulk never changes a mapping; edit that mapping to change it`
  const taken = index.symbolOf(m.commonSymbol, m.source)
  if (taken !== undefined) return describeTaken(m.commonSymbol, m.source, taken)
  return "created"
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`common_symbol AS "commonSymbol", source, source_kind AS "sourceKind", symbol`
  const lockForWrite = sql`LOCK TABLE registry.asset_mapping IN SHARE ROW EXCLUSIVE MODE`
  const feed = yield* ChangeFeed.ChangeFeed
  // Inside the writing transaction, so DataHub hears of every committed change and of no other.
  const published = feed.publish(MAPPINGS_CHANNEL, {})

  const list = (filter: {
    readonly commonSymbol?: string | undefined
    readonly source?: string | undefined
  }) => {
    const clauses = [
      ...(filter.commonSymbol === undefined ? [] : [sql`common_symbol = ${filter.commonSymbol}`]),
      ...(filter.source === undefined ? [] : [sql`source = ${filter.source}`])
    ]
    return sql`SELECT ${columns} FROM registry.asset_mapping ${clauses.length ? sql`WHERE ${sql.and(clauses)}` : sql.literal("")}
      ORDER BY common_symbol, source, symbol`.pipe(
      Effect.flatMap(decodeMappings),
      Effect.orDie,
      Effect.withSpan("MappingsRepo.list", { attributes: { ...filter } })
    )
  }

  /** The kind of each named source that has code (its newest version's kind). */
  const sourceKinds = (sources: ReadonlyArray<string>) =>
    sql<{ name: string; kind: CodeKind }>`
      SELECT DISTINCT ON (name) name, kind FROM registry.code_registry WHERE name = ANY(${sources}::text[])
      ORDER BY name, version DESC`.pipe(Effect.map((rows) => new Map(rows.map((r) => [r.name, r.kind]))))

  const existingFor = (sources: ReadonlyArray<string>) =>
    sql<{ commonSymbol: string; source: string; symbol: string }>`
      SELECT common_symbol AS "commonSymbol", source, symbol FROM registry.asset_mapping
      WHERE source = ANY(${sources}::text[])`

  /** Creates the mapping or changes the common symbol of (source, symbol). */
  const upsert = (m: MappingInput): Effect.Effect<AssetMapping, NotFound | Conflict> =>
    Effect.gen(function* () {
      yield* lockForWrite
      const kind = (yield* sourceKinds([m.source])).get(m.source)
      if (kind === undefined) return yield* new NotFound({ message: unknownSource(m.source) })
      if (kind === "strategy") return yield* new Conflict({ message: strategySource(m.source) })
      const [taken] = yield* sql<{ symbol: string }>`SELECT symbol FROM registry.asset_mapping
        WHERE common_symbol = ${m.commonSymbol} AND source = ${m.source} AND symbol <> ${m.symbol}`
      if (taken)
        return yield* new Conflict({ message: describeTaken(m.commonSymbol, m.source, taken.symbol) })
      const rows = yield* sql`
        INSERT INTO registry.asset_mapping (common_symbol, source, source_kind, symbol)
        VALUES (${m.commonSymbol}, ${m.source}, ${kind}, ${m.symbol})
        ON CONFLICT (source, symbol) DO UPDATE SET common_symbol = EXCLUDED.common_symbol,
          source_kind = EXCLUDED.source_kind
        RETURNING ${columns}`
      const [mapping] = yield* decodeMappings(rows)
      yield* published
      return mapping!
    }).pipe(
      sql.withTransaction,
      Effect.catchTags({ SqlError: Effect.die, ParseError: Effect.die }),
      Effect.withSpan("MappingsRepo.upsert", { attributes: { source: m.source, symbol: m.symbol } })
    )

  const remove = (source: string, symbol: string) =>
    sql`DELETE FROM registry.asset_mapping WHERE source = ${source} AND symbol = ${symbol} RETURNING symbol`.pipe(
      Effect.tap((rows) => (rows.length > 0 ? published : Effect.void)),
      sql.withTransaction,
      Effect.orDie,
      Effect.flatMap((rows) =>
        rows.length > 0
          ? Effect.void
          : new NotFound({
              message: `no mapping for ${source} symbol ${symbol}: it may have been removed already; list ${source}'s mappings to check`
            })
      ),
      Effect.withSpan("MappingsRepo.remove", { attributes: { source, symbol } })
    )

  /**
   * Adds many mappings, each independently: a row is created, already there (unchanged), or
   * reported as a conflict and skipped; rows are decided in order, so a later row conflicting
   * with an earlier one of the same batch is the one reported.
   */
  const bulk = (mappings: ReadonlyArray<MappingInput>): Effect.Effect<typeof BulkResult.Type> =>
    Effect.gen(function* () {
      yield* lockForWrite
      const sources = Arr.dedupe(mappings.map((m) => m.source))
      const kinds = yield* sourceKinds(sources)
      const index = mappingIndex(yield* existingFor(sources))
      const created: Array<MappingInput> = []
      const conflicts: Array<{ mapping: MappingInput; message: string }> = []
      let unchanged = 0
      for (const m of mappings) {
        const fate = decide(index, kinds, m)
        if (fate === "unchanged") unchanged++
        else if (fate !== "created") conflicts.push({ mapping: m, message: fate })
        else {
          created.push(m)
          index.add(m)
        }
      }
      for (const chunk of Arr.chunksOf(created, CHUNK))
        yield* sql`INSERT INTO registry.asset_mapping (common_symbol, source, source_kind, symbol)
          SELECT * FROM unnest(${chunk.map((m) => m.commonSymbol)}::text[], ${chunk.map((m) => m.source)}::text[],
                               ${chunk.map((m) => kinds.get(m.source)!)}::text[], ${chunk.map((m) => m.symbol)}::text[])`
      if (created.length > 0) yield* published
      return { created: created.length, unchanged, conflicts }
    }).pipe(
      sql.withTransaction,
      Effect.orDie,
      Effect.withSpan("MappingsRepo.bulk", { attributes: { rows: mappings.length } })
    )

  /** What suggestions are computed from: listed assets of sources that have code, and every mapping. */
  const suggestionInputs = Effect.all({
    assets: sql<SuggestionAsset>`
      SELECT provider, symbol, asset_class AS "assetClass", base, quote, exchange, isin FROM registry.assets
      WHERE status = 'active' AND asset_class IN ('crypto', 'equity', 'etf')
        AND provider IN (SELECT name FROM registry.code_registry)`,
    mappings: sql<{ commonSymbol: string; source: string; symbol: string }>`
      SELECT common_symbol AS "commonSymbol", source, symbol FROM registry.asset_mapping`
  }).pipe(Effect.orDie, Effect.withSpan("MappingsRepo.suggestionInputs"))

  return { list, upsert, remove, bulk, suggestionInputs, all: list({}) } as const
})

export class MappingsRepo extends Context.Tag("@quasar/registry/MappingsRepo")<
  MappingsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(MappingsRepo, make)
}
