/**
 * Bars rendered as text by PostgreSQL, in the API's two wire formats: JSON `BarPoint` objects and
 * the CSV lines of `BarCsvLine`. The SQL is generated from the domain's column list, so a field
 * added to `BarPoint` cannot be left out here (test/bars/wireFormat.test.ts holds both formats to
 * their Schema encodings). For 100,000 bars, `string_agg` of concatenated fields (in chunks, see
 * `renderChunks`) takes ~0.3 s where `json_agg(json_build_object(…))` takes ~0.9 s, and decoding
 * rows into objects in Node to encode them again costs more still (measured on PG 15).
 */
import { BAR_CSV_COLUMNS, type BarPoint } from "@quasar/domain"

export type PageFormat = "json" | "csv"

/** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
const iso = `to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

type Kind = "time" | "number" | "nullable"
const kinds: { readonly [K in keyof BarPoint]: Kind } = {
  ts: "time",
  open: "number",
  high: "number",
  low: "number",
  close: "number",
  volume: "number",
  vwap: "nullable",
  trades: "nullable"
}

type Piece = { readonly text: string } | { readonly sql: string }

/** float8 prints its shortest exact form (PG 12+), which is a valid JSON number. */
const value = (column: keyof BarPoint, format: PageFormat): ReadonlyArray<Piece> => {
  switch (kinds[column]) {
    case "time":
      return format === "json" ? [{ text: '"' }, { sql: iso }, { text: '"' }] : [{ sql: iso }]
    case "number":
      return [{ sql: `${column}::text` }]
    case "nullable":
      return [{ sql: `coalesce(${column}::text, '${format === "json" ? "null" : ""}')` }]
  }
}

const pieces: Record<PageFormat, ReadonlyArray<Piece>> = {
  json: [
    ...BAR_CSV_COLUMNS.flatMap((column, i) => [
      { text: `${i === 0 ? "{" : ","}"${column}":` },
      ...value(column, "json")
    ]),
    { text: "}" }
  ],
  csv: [
    ...BAR_CSV_COLUMNS.flatMap((column, i) => [...(i === 0 ? [] : [{ text: "," }]), ...value(column, "csv")]),
    { text: "\n" }
  ]
}

const literal = (text: string) => {
  const quoted = text.replace(/'/g, "''")
  return text.includes("\n") ? `E'${quoted.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}'` : `'${quoted}'`
}

/** One SQL expression concatenating the pieces, adjacent texts joined into one literal. */
const concatenate = (list: ReadonlyArray<Piece>): string => {
  const out: Array<string> = []
  let text = ""
  for (const piece of list) {
    if ("text" in piece) text += piece.text
    else {
      if (text !== "") out.push(literal(text))
      text = ""
      out.push(piece.sql)
    }
  }
  if (text !== "") out.push(literal(text))
  return out.join(" || ")
}

/** One bar of a row source with the `BarPoint` columns, as text. */
export const renderBar: Record<PageFormat, string> = {
  json: concatenate(pieces.json),
  csv: concatenate(pieces.csv)
}

/**
 * Renders the rows of `source` (which has the `BarPoint` columns), oldest first, as one text per
 * CHUNK_ROWS rows. Chunks, not one text: a single `string_agg` over a whole page is several times
 * slower than chunks (it sorts all the bars again, and one value of megabytes then has to be
 * received and grown in one piece by the client); 500 rows (~75 KB) also stay below the
 * size at which V8 allocates a string in its slow large-object space.
 */
const CHUNK_ROWS = 500

export const renderChunks = (format: PageFormat, source: string) => `
  SELECT string_agg(${renderBar[format]}, ${format === "json" ? "','" : "''"} ORDER BY ts) AS text,
         count(*)::int AS count,
         (extract(epoch FROM max(ts)) * 1000)::int8 AS last_ms
  FROM (SELECT *, (row_number() OVER (ORDER BY ts) - 1) / ${CHUNK_ROWS} AS chunk FROM (${source}) AS rows) AS page
  GROUP BY chunk ORDER BY chunk`

export interface Chunk {
  readonly text: string
  readonly count: number
  readonly last_ms: number | null
}

/**
 * A page's pieces (to be sent one after another, never joined into one big string: a JSON array,
 * or CSV lines each ending in a newline), bar count and last open time, from its chunks.
 */
export const joinChunks = (format: PageFormat, chunks: ReadonlyArray<Chunk>) => {
  let count = 0
  for (const c of chunks) count += c.count
  const parts =
    format === "csv"
      ? chunks.map((c) => c.text)
      : chunks.length === 0
        ? ["[]"]
        : ["[", ...chunks.flatMap((c, i) => (i === 0 ? [c.text] : [",", c.text])), "]"]
  return { parts, count, lastMs: chunks.at(-1)?.last_ms ?? null }
}
