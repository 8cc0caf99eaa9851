import { Context, Layer, type Redacted } from "effect"

/**
 * Where the database is. In production `DATABASE_URL`; without it, the Node entry point starts
 * (or joins) the embedded PGlite database and provides its URL here.
 */
export class DatabaseUrl extends Context.Tag("@quasar/server/DatabaseUrl")<
  DatabaseUrl,
  { readonly url: Redacted.Redacted<string>; readonly embedded: boolean }
>() {
  static readonly layer = (url: Redacted.Redacted<string>, embedded = false) =>
    Layer.succeed(DatabaseUrl, { url, embedded })
}
