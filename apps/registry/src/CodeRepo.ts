/** SQL for `code_registry`: versions of provider, broker and strategy code. */
import { SqlClient, type SqlError } from "@effect/sql"
import {
  type CodeKind,
  type CodeLanguage,
  type CodeManifest,
  type CodeStatus,
  CodeVersion,
  type ValidationReport
} from "@quasar/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"

interface VersionRow {
  readonly name: string
  readonly kind: CodeKind
  readonly language: CodeLanguage
  readonly version: number
  readonly sha256: string
  readonly size: number
  readonly manifest: unknown
  readonly status: CodeStatus
  readonly validation: unknown
  readonly built_in: boolean
  readonly created_at: Date
}

export interface SummaryRow {
  readonly name: string
  readonly kind: CodeKind
  readonly display_name: string | null
  readonly current_version: number | null
  readonly current_status: CodeStatus | null
  readonly latest_version: number
  readonly built_in: boolean
}

export interface NewVersion {
  readonly name: string
  readonly kind: CodeKind
  readonly language: CodeLanguage
  readonly sha256: string
  readonly source: string
  readonly manifest: CodeManifest | null
  readonly status: "valid" | "invalid"
  readonly validation: ValidationReport
  readonly builtIn: boolean
}

/** Rows hold the JSON (encoded) forms of manifest and report, so decode rather than construct. */
const decodeVersion = Schema.decodeUnknownSync(CodeVersion)

const toVersion = (r: VersionRow): CodeVersion =>
  decodeVersion({
    name: r.name,
    kind: r.kind,
    language: r.language,
    version: r.version,
    sha256: r.sha256,
    size: r.size,
    manifest: r.manifest,
    status: r.status,
    validation: r.validation,
    builtIn: r.built_in,
    createdAt: r.created_at.toISOString()
  })

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`name, kind, language, version, sha256, size, manifest, status, validation, built_in, created_at`

  const one = (rows: ReadonlyArray<VersionRow>) => Option.map(Option.fromNullable(rows[0]), toVersion)

  const summaries = sql<SummaryRow>`
    SELECT name, kind,
           (array_agg(manifest->>'displayName' ORDER BY version DESC) FILTER (WHERE manifest IS NOT NULL))[1]
             AS display_name,
           max(version) FILTER (WHERE status IN ('active', 'disabled')) AS current_version,
           max(status) FILTER (WHERE status IN ('active', 'disabled')) AS current_status,
           max(version) AS latest_version,
           bool_or(built_in) AS built_in
    FROM registry.code_registry GROUP BY name, kind ORDER BY name`.pipe(Effect.withSpan("CodeRepo.summaries"))

  const summary = (name: string) =>
    Effect.map(summaries, (rows) => Option.fromNullable(rows.find((r) => r.name === name)))

  const versions = (name: string) =>
    sql<VersionRow>`SELECT ${columns} FROM registry.code_registry WHERE name = ${name} ORDER BY version DESC`.pipe(
      Effect.map((rows) => rows.map(toVersion)),
      Effect.withSpan("CodeRepo.versions", { attributes: { name } })
    )

  const version = (name: string, v: number) =>
    sql<VersionRow>`SELECT ${columns} FROM registry.code_registry WHERE name = ${name} AND version = ${v}`.pipe(
      Effect.map(one),
      Effect.withSpan("CodeRepo.version", { attributes: { name, version: v } })
    )

  const source = (name: string, v: number) =>
    sql<{
      source: string
    }>`SELECT source FROM registry.code_registry WHERE name = ${name} AND version = ${v}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), (r) => r.source))
    )

  const bySha = (name: string, sha256: string) =>
    sql<VersionRow>`SELECT ${columns} FROM registry.code_registry WHERE name = ${name} AND sha256 = ${sha256}`.pipe(
      Effect.map(one)
    )

  const current = (name: string) =>
    sql<VersionRow>`SELECT ${columns} FROM registry.code_registry
      WHERE name = ${name} AND status IN ('active', 'disabled')`.pipe(Effect.map(one))

  /** Inserts version n+1 under a per-name lock; an identical upload racing in returns the first. */
  const insert = (
    v: NewVersion
  ): Effect.Effect<{ version: CodeVersion; created: boolean }, SqlError.SqlError> =>
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`code:${v.name}`}))`
      const existing = yield* bySha(v.name, v.sha256)
      if (Option.isSome(existing)) return { version: existing.value, created: false }
      const rows = yield* sql<VersionRow>`
        INSERT INTO registry.code_registry (name, kind, language, version, sha256, source, size, manifest, status, validation, built_in)
        SELECT ${v.name}, ${v.kind}, ${v.language}, coalesce(max(version), 0) + 1, ${v.sha256}, ${v.source},
               ${new TextEncoder().encode(v.source).length}, ${v.manifest === null ? null : JSON.stringify(v.manifest)}::jsonb,
               ${v.status}, ${JSON.stringify(v.validation)}::jsonb, ${v.builtIn}
        FROM registry.code_registry WHERE name = ${v.name}
        RETURNING ${columns}`
      return { version: toVersion(rows[0]!), created: true }
    }).pipe(sql.withTransaction, Effect.withSpan("CodeRepo.insert", { attributes: { name: v.name } }))

  /** Makes `v` the one current version (status active); the previous current one becomes valid. */
  const activate = (name: string, v: number) =>
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`code:${name}`}))`
      yield* sql`UPDATE registry.code_registry SET status = 'valid'
        WHERE name = ${name} AND status IN ('active', 'disabled') AND version <> ${v}`
      yield* sql`UPDATE registry.code_registry SET status = 'active' WHERE name = ${name} AND version = ${v}`
    }).pipe(sql.withTransaction, Effect.withSpan("CodeRepo.activate", { attributes: { name, version: v } }))

  const setCurrentStatus = (name: string, status: "active" | "disabled") =>
    sql`UPDATE registry.code_registry SET status = ${status} WHERE name = ${name} AND status IN ('active', 'disabled')`

  const remove = (name: string, v: number) =>
    sql`DELETE FROM registry.code_registry WHERE name = ${name} AND version = ${v}`.pipe(Effect.asVoid)

  return {
    summaries,
    summary,
    versions,
    version,
    source,
    bySha,
    current,
    insert,
    activate,
    setCurrentStatus,
    remove
  } as const
})

export class CodeRepo extends Context.Tag("@quasar/registry/CodeRepo")<
  CodeRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CodeRepo, make)
}
