/** SQL for `assets`: search, and storing a provider's listing. */
import { SqlClient, type Statement } from "@effect/sql"
import { Asset, type AssetSearch, type CodeKind, type CodeStatus, type ProviderAsset } from "@quasar/domain"
import { Array as Arr, Context, Effect, Layer, Option, Schema } from "effect"

export type SearchParams = typeof AssetSearch.Type

/** Rows as selected below: the wire shape, except that the driver hands timestamps over as Dates. */
const AssetRow = Schema.Struct({ ...Asset.fields, refreshedAt: Schema.DateTimeUtcFromDate })

/** The current (active or disabled) version of a name, or its newest one when none is current. */
export interface CodeState {
  readonly kind: CodeKind
  readonly status: CodeStatus
  /** The manifest's capabilities, null when the version has no manifest. */
  readonly capabilities: ReadonlyArray<string> | null
}

/** Rows per upsert statement: one array parameter per column, so size is bound by memory only. */
const CHUNK = 5_000

/** Escapes LIKE's wildcards so that `q` is matched literally (`\` is PostgreSQL's default escape). */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  /**
   * Queries shorter than a trigram match by prefix (btree `text_pattern_ops`); longer ones by
   * substring (GIN trigram). Both are index scans, and a one-letter "contains" would match
   * most of the table anyway.
   */
  const textMatch = (q: string) => {
    const pattern = q.length < 3 ? `${likeLiteral(q)}%` : `%${likeLiteral(q)}%`
    return sql`(lower(symbol) LIKE ${pattern} OR lower(name) LIKE ${pattern})`
  }

  const normalisedQ = (p: SearchParams) =>
    Option.filter(Option.fromNullable(p.q?.trim().toLowerCase()), (q) => q !== "")

  const where = (p: SearchParams) => {
    const clauses: Array<Statement.Fragment> = []
    // Stored text never contains NUL (PostgreSQL refuses it, even as a parameter): no match.
    if ([p.q, p.exchange].some((s) => s?.includes("\u0000"))) clauses.push(sql`FALSE`)
    else {
      Option.map(normalisedQ(p), (q) => clauses.push(textMatch(q)))
      if (p.exchange !== undefined) clauses.push(sql`lower(exchange) = ${p.exchange.toLowerCase()}`)
    }
    if (p.provider !== undefined) clauses.push(sql`provider = ${p.provider}`)
    if (p.assetClass !== undefined) clauses.push(sql`asset_class = ${p.assetClass}`)
    if (p.status !== undefined) clauses.push(sql`status = ${p.status}`)
    return clauses.length === 0 ? sql.literal("") : sql`WHERE ${sql.and(clauses)}`
  }

  /** Exact symbol first, then symbols starting with `q`, then by symbol. */
  const order = (p: SearchParams) =>
    Option.match(
      Option.filter(normalisedQ(p), (q) => !q.includes("\u0000")),
      {
        onNone: () => sql`ORDER BY symbol, provider`,
        onSome: (q) =>
          sql`ORDER BY (lower(symbol) = ${q}) DESC, (lower(symbol) LIKE ${`${likeLiteral(q)}%`}) DESC, symbol, provider`
      }
    )

  const pageQuery = (p: SearchParams) => sql<object>`
    SELECT provider, symbol, name, asset_class AS "assetClass", base, quote, exchange, currency, isin,
           status, refreshed_at AS "refreshedAt"
    FROM registry.assets ${where(p)} ${order(p)} LIMIT ${p.limit} OFFSET ${p.offset}`

  const countQuery = (p: SearchParams) =>
    sql<{ total: number }>`SELECT count(*) AS total FROM registry.assets ${where(p)}`

  const decodeRows = Schema.decodeUnknown(Schema.Array(AssetRow))

  /**
   * The page and its total from one snapshot: read apart, a listing committed between them gave a
   * page of nothing with a total of hundreds.
   */
  const search = (p: SearchParams) =>
    Effect.zipRight(
      sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`,
      Effect.all({
        items: pageQuery(p).pipe(Effect.flatMap(decodeRows), Effect.map(Arr.map((row) => new Asset(row)))),
        total: Effect.map(countQuery(p), (rows) => rows[0]?.total ?? 0)
      })
    ).pipe(
      sql.withTransaction,
      Effect.orDie,
      Effect.withSpan("AssetsRepo.search", { attributes: { q: p.q, provider: p.provider } })
    )

  /** The plans of both search statements, for tests and diagnostics. */
  const explainSearch = (p: SearchParams) =>
    Effect.forEach([pageQuery(p), countQuery(p)], (query) =>
      Effect.map(sql<{ "QUERY PLAN": string }>`EXPLAIN ${query}`, (rows) =>
        rows.map((r) => r["QUERY PLAN"]).join("\n")
      )
    ).pipe(Effect.withSpan("AssetsRepo.explainSearch"))

  const codeState = (provider: string) =>
    sql<CodeState>`
      SELECT kind, status, manifest->'capabilities' AS capabilities FROM registry.code_registry WHERE name = ${provider}
      ORDER BY (status IN ('active', 'disabled')) DESC, version DESC LIMIT 1`.pipe(
      Effect.map((rows): Option.Option<CodeState> => Option.fromNullable(rows[0])),
      Effect.withSpan("AssetsRepo.codeState", { attributes: { provider } })
    )

  /** Names whose code lists assets when active: strategies never do. */
  const activeProviders = sql<{ name: string }>`
    SELECT DISTINCT name FROM registry.code_registry WHERE status = 'active' AND kind <> 'strategy' ORDER BY name`.pipe(
    Effect.map((rows) => rows.map((r) => r.name)),
    Effect.withSpan("AssetsRepo.activeProviders")
  )

  const lastRefreshed = (provider: string) =>
    sql<{
      at: Date | null
    }>`SELECT max(refreshed_at) AS at FROM registry.assets WHERE provider = ${provider}`.pipe(
      Effect.map((rows) => Option.fromNullable(rows[0]?.at)),
      Effect.withSpan("AssetsRepo.lastRefreshed", { attributes: { provider } })
    )

  const upsertChunk = (provider: string, rows: ReadonlyArray<ProviderAsset>) => {
    const column = (f: (a: ProviderAsset) => string | undefined) => rows.map((a) => f(a) ?? null)
    return sql`
      INSERT INTO registry.assets (provider, symbol, name, asset_class, base, quote, exchange, currency, isin, status, refreshed_at)
      SELECT ${provider}, t.symbol, t.name, t.asset_class, t.base, t.quote, t.exchange, t.currency, t.isin, t.status, now()
      FROM unnest(${column((a) => a.symbol)}::text[], ${column((a) => a.name)}::text[],
                  ${column((a) => a.assetClass ?? "other")}::text[], ${column((a) => a.base)}::text[],
                  ${column((a) => a.quote)}::text[], ${column((a) => a.exchange)}::text[],
                  ${column((a) => a.currency)}::text[], ${column((a) => a.isin)}::text[],
                  ${column((a) => a.status ?? "active")}::text[])
        AS t(symbol, name, asset_class, base, quote, exchange, currency, isin, status)
      ON CONFLICT (provider, symbol) DO UPDATE SET
        name = EXCLUDED.name, asset_class = EXCLUDED.asset_class, base = EXCLUDED.base,
        quote = EXCLUDED.quote, exchange = EXCLUDED.exchange, currency = EXCLUDED.currency,
        isin = EXCLUDED.isin, status = EXCLUDED.status, refreshed_at = EXCLUDED.refreshed_at`
  }

  /**
   * Stores a provider's whole listing (unique symbols) in one transaction: upserts every asset
   * and marks the provider's other assets delisted — never deleted, since mappings, bars and
   * subscriptions may still name them. `refreshed_at` of a delisted asset stays the last time
   * it was listed. A per-provider lock keeps two refreshes from interleaving.
   */
  const storeListing = (provider: string, assets: ReadonlyArray<ProviderAsset>) =>
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`assets:${provider}`}))`
      yield* Effect.forEach(Arr.chunksOf(assets, CHUNK), (chunk) => upsertChunk(provider, chunk), {
        discard: true
      })
      const delisted = yield* sql<{ symbol: string }>`
        UPDATE registry.assets a SET status = 'delisted'
        WHERE a.provider = ${provider} AND a.status <> 'delisted'
          AND NOT EXISTS (SELECT 1 FROM unnest(${assets.map((a) => a.symbol)}::text[]) AS l(symbol)
                          WHERE l.symbol = a.symbol)
        RETURNING a.symbol`
      return { upserted: assets.length, delisted: delisted.length }
    }).pipe(
      sql.withTransaction,
      Effect.withSpan("AssetsRepo.storeListing", { attributes: { provider, assets: assets.length } })
    )

  /**
   * After a large listing: merge the GIN indexes' pending lists (fastupdate parks new entries
   * there; until autovacuum merges them, every search scans the list and the planner rightly
   * prefers a sequential scan) and refresh the statistics. Plain ANALYZE does not merge them.
   * Best effort: autovacuum does the same within minutes.
   */
  const settle = Effect.gen(function* () {
    yield* sql`SELECT gin_clean_pending_list(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      WHERE i.indrelid = 'registry.assets'::regclass AND am.amname = 'gin'`
    yield* sql`ANALYZE registry.assets`
  }).pipe(
    Effect.catchAll((e) => Effect.logWarning("could not settle the assets indexes", { error: e.message })),
    Effect.withSpan("AssetsRepo.settle")
  )

  return { search, explainSearch, codeState, activeProviders, lastRefreshed, storeListing, settle } as const
})

export class AssetsRepo extends Context.Tag("@quasar/registry/AssetsRepo")<
  AssetsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(AssetsRepo, make)
}
