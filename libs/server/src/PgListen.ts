/**
 * LISTEN on a connection of its own, which the stream owns: when the stream ends, its connection
 * is destroyed, not asked politely to UNLISTEN. A connection that died silently (a NAT forgot the
 * flow) would never answer that request, and a listener waiting on it would keep the dead
 * connection for good; @effect/sql-pg's `listen` shares one such connection between listeners.
 *
 * The stream fails when the connection reports an error or ends, so its consumer can listen
 * again; a connection dead without a word is for the consumer to notice (a ping of its own).
 */
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Redacted, Stream } from "effect"
import Pg from "pg"
import { DatabaseUrl } from "./DatabaseUrl"

/** The socket of `pg`'s client; `pg` 8 has no public API for it. */
interface ClientSocket {
  readonly connection?: { readonly stream?: { destroy: () => void } }
}

export const listen = (channel: string): Stream.Stream<string, SqlError, DatabaseUrl> =>
  Stream.asyncScoped<string, SqlError, DatabaseUrl>((emit) =>
    Effect.gen(function* () {
      const { url } = yield* DatabaseUrl
      const client = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const client = new Pg.Client({
              connectionString: Redacted.value(url),
              connectionTimeoutMillis: 5_000,
              keepAlive: true,
              keepAliveInitialDelayMillis: 10_000,
              application_name: `listen:${channel}`
            })
            client.on(
              "error",
              (cause) =>
                void emit.fail(new SqlError({ cause, message: `LISTEN ${channel}: connection error` }))
            )
            client.on(
              "end",
              () => void emit.fail(new SqlError({ message: `LISTEN ${channel}: connection closed` }))
            )
            client.on("notification", (m) => {
              if (m.channel === channel && m.payload !== undefined) void emit.single(m.payload)
            })
            await client.connect()
            return client
          },
          catch: (cause) => new SqlError({ cause, message: `LISTEN ${channel}: could not connect` })
        }),
        (client) =>
          Effect.sync(() => {
            client.removeAllListeners("end")
            client.on("error", () => undefined)
            ;(client as unknown as ClientSocket).connection?.stream?.destroy()
          })
      )
      yield* Effect.tryPromise({
        try: () => client.query(`LISTEN ${Pg.escapeIdentifier(channel)}`),
        catch: (cause) => new SqlError({ cause, message: `LISTEN ${channel} failed` })
      }).pipe(
        Effect.timeout("10 seconds"),
        Effect.catchTag(
          "TimeoutException",
          (cause) => new SqlError({ cause, message: `LISTEN ${channel} got no answer` })
        )
      )
    })
  )
