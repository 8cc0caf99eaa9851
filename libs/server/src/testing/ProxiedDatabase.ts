/**
 * A fresh test database reached through a `TcpProxy` the test can cut, stall and restore, to
 * play "the database went away" against a service that connects through it.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { DatabaseUrl } from "../DatabaseUrl"
import * as TcpProxy from "./TcpProxy"
import * as TestDatabase from "./TestDatabase"

export class ProxiedDatabase extends Context.Tag("@quasar/server/testing/ProxiedDatabase")<
  ProxiedDatabase,
  { readonly proxy: TcpProxy.TcpProxy; readonly url: string }
>() {}

/**
 * The proxy (`proxied`) and the `DatabaseUrl` through it (`databaseUrl`). Layers are memoised by
 * reference within one build, so a test that provides both gets the proxy its service uses.
 * `startCut`: the proxy refuses connections until it is restored.
 */
export const layers = (options: { readonly startCut?: boolean } = {}) => {
  const proxied = Layer.scoped(
    ProxiedDatabase,
    Effect.gen(function* () {
      const direct = new URL(yield* TestDatabase.fresh)
      const proxy = yield* TcpProxy.make(direct.hostname, Number(direct.port || 5432))
      if (options.startCut) yield* proxy.cut
      const url = new URL(direct)
      url.hostname = "127.0.0.1"
      url.port = String(proxy.port)
      return { proxy, url: url.toString() }
    })
  )
  const databaseUrl = Layer.effect(
    DatabaseUrl,
    Effect.map(ProxiedDatabase, ({ url }) => ({ url: Redacted.make(url), embedded: false }))
  ).pipe(Layer.provide(proxied))
  return { proxied, databaseUrl }
}
