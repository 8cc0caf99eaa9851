/**
 * Mappings as CSV (RFC 4180): header `common_symbol,source,symbol`, CRLF line ends, a field
 * quoted when it holds a comma, a quote or a line break (symbols may contain commas: `A,B` is a
 * valid symbol). Import accepts LF line ends too, and reports the first problem with its line.
 *
 * Formula injection: a spreadsheet runs a cell starting with `=`, `+`, `-` or `@` (and tab or
 * CR) as a formula, so such a cell is exported with a leading apostrophe, the spreadsheet's
 * "this is text" mark (a cell starting with an apostrophe gets one too). Import drops an
 * apostrophe followed by one of those characters, so an exported file reads back unchanged.
 */
import { InvalidRequest } from "@quasar/domain"
import { Either } from "effect"

export const HEADER = ["common_symbol", "source", "symbol"] as const
/** The same cap as `POST /mappings/bulk`. */
export const MAX_ROWS = 50_000

const quote = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field)

const FORMULA_START = /^[=+\-@\t\r']/

/** A cell a spreadsheet opens as text, never as a formula. */
export const defuse = (cell: string) => (FORMULA_START.test(cell) ? `'${cell}` : cell)

/** The cell `defuse` was given. */
export const restore = (cell: string) =>
  cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell

export const format = (
  mappings: ReadonlyArray<{ readonly commonSymbol: string; readonly source: string; readonly symbol: string }>
) =>
  [
    HEADER.join(","),
    ...mappings.map((m) => [m.commonSymbol, m.source, m.symbol].map((cell) => quote(defuse(cell))).join(","))
  ]
    .map((line) => `${line}\r\n`)
    .join("")

interface Record {
  /** 1-based line the record starts on. */
  readonly line: number
  readonly fields: ReadonlyArray<string>
}

const invalid = (line: number, message: string) =>
  new InvalidRequest({ message: `line ${line}: ${message}`, field: "body" })

/** Splits CSV text into records; fails on a quote in an unquoted field or an unclosed quote. */
export const records = (text: string): Either.Either<Array<Record>, InvalidRequest> => {
  const out: Array<Record> = []
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text
  let line = 1
  let i = 0
  while (i < src.length) {
    const start = line
    const fields: Array<string> = []
    let field = ""
    for (;;) {
      if (src[i] === '"') {
        i++
        for (;;) {
          if (i >= src.length) return Either.left(invalid(start, "a quoted field is never closed"))
          if (src[i] === '"' && src[i + 1] === '"') {
            field += '"'
            i += 2
          } else if (src[i] === '"') {
            i++
            break
          } else {
            if (src[i] === "\n") line++
            field += src[i++]
          }
        }
        if (i < src.length && src[i] !== "," && src[i] !== "\r" && src[i] !== "\n")
          return Either.left(
            invalid(line, "a closing quote must be followed by a comma or the end of the line")
          )
      } else {
        while (i < src.length && src[i] !== "," && src[i] !== "\r" && src[i] !== "\n") {
          if (src[i] === '"')
            return Either.left(
              invalid(line, 'a field containing " must be quoted, with the quote doubled ("")')
            )
          field += src[i++]
        }
      }
      fields.push(field)
      field = ""
      if (src[i] !== ",") break
      i++
    }
    if (src[i] === "\r") i++
    if (i < src.length && src[i] !== "\n")
      return Either.left(invalid(line, "a carriage return must end the line"))
    i++
    line++
    // A blank line carries no record; a trailing one is what most editors write.
    if (!(fields.length === 1 && fields[0] === "")) out.push({ line: start, fields })
  }
  return Either.right(out)
}
