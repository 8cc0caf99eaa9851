/**
 * Reading a mappings CSV for import (the CSV itself is `MappingsCsv`): every row that cannot be a
 * mapping is reported on a line of its own (its line in the file and, in one sentence, what is
 * wrong with which column), so a file can be fixed in one pass. A file with any bad row imports
 * nothing.
 */
import { InvalidRows, MappingInput } from "@quasar/domain"
import { Either, ParseResult, Schema } from "effect"
import * as MappingsCsv from "./MappingsCsv"

/** Rows listed in a refusal; a file of 50,000 bad rows gets the first ones and a count. */
const LISTED = 100

interface Problem {
  readonly line: number
  readonly message: string
}

const columnOf: Record<string, string> = { commonSymbol: "common_symbol", source: "source", symbol: "symbol" }
const decodeInput = Schema.decodeUnknownEither(MappingInput, { errors: "all" })

/** The row as a mapping, or what is wrong with it in one line (`source: Expected lower-case …, actual "Kraken"`). */
const readRow = (fields: ReadonlyArray<string>): Either.Either<MappingInput, string> => {
  if (fields.length !== MappingsCsv.HEADER.length)
    return Either.left(
      `expected ${MappingsCsv.HEADER.length} fields (${MappingsCsv.HEADER.join(",")}), found ${fields.length}`
    )
  const [commonSymbol = "", source, symbol = ""] = fields
  const input = {
    commonSymbol: MappingsCsv.restore(commonSymbol),
    source,
    symbol: MappingsCsv.restore(symbol)
  }
  return Either.mapLeft(decodeInput(input), (error) =>
    ParseResult.ArrayFormatter.formatErrorSync(error)
      .map((issue) => {
        const column = issue.path.map((p) => columnOf[String(p)] ?? String(p)).join(".")
        return `${column ? `${column}: ` : ""}${issue.message.replace(/\s+/g, " ")}`
      })
      .join("; ")
  )
}

const refuse = (problems: ReadonlyArray<Problem>) => {
  const listed = problems.slice(0, LISTED)
  const more = problems.length - listed.length
  const count = problems.length === 1 ? "1 row is" : `${problems.length} rows are`
  return new InvalidRows({
    message: [
      `${count} not a valid mapping; nothing was imported:`,
      ...listed.map((p) => `line ${p.line}: ${p.message}`),
      ...(more > 0 ? [`and ${more} more`] : [])
    ].join("\n"),
    rows: listed,
    total: problems.length
  })
}

/** The mappings of an import file, or every bad row (a malformed file or header is one problem). */
export const read = (text: string): Either.Either<Array<MappingInput>, InvalidRows> => {
  const parsed = MappingsCsv.records(text)
  if (Either.isLeft(parsed)) {
    // `records` names the line in its message ("line 3: a quoted field is never closed").
    const located = /^line (\d+): (.*)$/s.exec(parsed.left.message)
    return Either.left(
      refuse([{ line: Number(located?.[1] ?? 1), message: located?.[2] ?? parsed.left.message }])
    )
  }
  const [header, ...rows] = parsed.right
  if (header === undefined)
    return Either.left(
      refuse([
        {
          line: 1,
          message: `the file is empty; it must start with the header ${MappingsCsv.HEADER.join(",")}`
        }
      ])
    )
  if (
    header.fields.length !== 3 ||
    header.fields.some((f, n) => f.trim().toLowerCase() !== MappingsCsv.HEADER[n])
  )
    return Either.left(
      refuse([
        {
          line: header.line,
          message: `the header must be ${MappingsCsv.HEADER.join(",")}, found ${header.fields.join(",").slice(0, 100)}`
        }
      ])
    )
  if (rows.length > MappingsCsv.MAX_ROWS)
    return Either.left(
      refuse([
        {
          line: rows[MappingsCsv.MAX_ROWS]!.line,
          message: `more than ${MappingsCsv.MAX_ROWS} rows; split the file`
        }
      ])
    )
  const problems: Array<Problem> = []
  const inputs: Array<MappingInput> = []
  for (const row of rows)
    Either.match(readRow(row.fields), {
      onLeft: (message) => problems.push({ line: row.line, message }),
      onRight: (input) => inputs.push(input)
    })
  return problems.length > 0 ? Either.left(refuse(problems)) : Either.right(inputs)
}
