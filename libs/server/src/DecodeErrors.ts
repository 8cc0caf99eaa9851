/**
 * Short messages for requests that fail schema validation. The platform's `HttpApiDecodeError`
 * message is the schema's whole type tree; a client needs the field and the reason:
 * `version: Expected a number between 1 and 2147483647, actual 99999999999`. The `issues` array
 * stays as it is for clients that want every detail.
 */
import { Schema } from "effect"

const Issue = Schema.Struct({
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number, Schema.Symbol)),
  message: Schema.String
})
const DecodeErrorBody = Schema.Struct({
  _tag: Schema.Literal("HttpApiDecodeError"),
  issues: Schema.Array(Issue),
  message: Schema.String
})
// Fields the schema does not name (each issue's `_tag`) are kept as they are.
const decodeBody = Schema.decodeUnknownOption(Schema.parseJson(DecodeErrorBody), {
  onExcessProperty: "preserve"
})

const MAX_ISSUES = 3
const MAX_EXPECTED = 60
const MAX_ACTUAL = 60

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s)

/** One issue's reason, without a type signature too long to read. */
export const reason = (message: string): string => {
  const match = /^Expected ([\s\S]*?), actual ([\s\S]*)$/.exec(message)
  if (!match) return clip(message.replace(/\s+/g, " "), 200)
  const [, expected = "", actual = ""] = match
  const wanted = expected.startsWith("{") ? "an object" : expected
  return wanted.length > MAX_EXPECTED
    ? `has the wrong type (actual ${clip(actual, MAX_ACTUAL)})`
    : `expected ${wanted}, actual ${clip(actual, MAX_ACTUAL)}`
}

export const shortMessage = (issues: ReadonlyArray<typeof Issue.Type>): string => {
  const parts = issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join(".") : "request"}: ${reason(i.message)}`)
  const more = issues.length - MAX_ISSUES
  return parts.join("; ") + (more > 0 ? `; and ${more} more` : "") || "the request does not match the API"
}

/** The body with a short message if it is an `HttpApiDecodeError`, else undefined. */
export const shortened = (body: string): string | undefined => {
  const decoded = decodeBody(body)
  if (decoded._tag === "None") return undefined
  return JSON.stringify({ ...decoded.value, message: shortMessage(decoded.value.issues) })
}
