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
      const proxied = yield* TcpProxy.inFrontOf(yield* TestDatabase.fresh)
      if (options.startCut) yield* proxied.proxy.cut
      return proxied
    })
  )
  const databaseUrl = Layer.effect(
    DatabaseUrl,
    Effect.map(ProxiedDatabase, ({ url }) => ({ url: Redacted.make(url), embedded: false }))
  ).pipe(Layer.provide(proxied))
  return { proxied, databaseUrl }
}
