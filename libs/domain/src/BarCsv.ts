/**
 * Bars as CSV, the `format=csv` answer of `GET /bars`: a header line naming `BarPoint`'s fields in
 * their order, then one line per bar, every line ending in "\n". A time is ISO 8601 UTC, a number
 * is written as in JSON, and a missing vwap or trades is an empty field; no field ever needs
 * quoting. DataHub renders these lines in SQL from the same column list (`BAR_CSV_COLUMNS`).
 */
import { ParseResult, Schema } from "effect"
import { BarPoint } from "./BarsApi"

export const BAR_CSV_COLUMNS = Object.keys(BarPoint.fields) as ReadonlyArray<keyof BarPoint>

/** The first line of a CSV download, newline included. */
export const BAR_CSV_HEADER = `${BAR_CSV_COLUMNS.join(",")}\n`

const numberField = (text: string): number | null | undefined => {
  if (text === "") return null
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

/** One line of bars CSV (without its newline) as the bar it holds. */
export const BarCsvLine = Schema.transformOrFail(Schema.String, BarPoint, {
  strict: true,
  decode: (line, _, ast) => {
    const fields = line.split(",")
    if (fields.length !== BAR_CSV_COLUMNS.length)
      return ParseResult.fail(
        new ParseResult.Type(ast, line, `expected ${BAR_CSV_COLUMNS.length} fields, found ${fields.length}`)
      )
    const bar: Record<string, unknown> = {}
    for (const [i, column] of BAR_CSV_COLUMNS.entries()) {
      const text = fields[i] ?? ""
      const value = column === "ts" ? text : numberField(text)
      if (value === undefined)
        return ParseResult.fail(new ParseResult.Type(ast, line, `${column} "${text}" is not a number`))
      bar[column] = value
    }
    return ParseResult.decodeUnknown(Schema.encodedSchema(BarPoint))(bar)
  },
  encode: (bar) => ParseResult.succeed(BAR_CSV_COLUMNS.map((column) => String(bar[column] ?? "")).join(","))
}).annotations({ identifier: "BarCsvLine" })
