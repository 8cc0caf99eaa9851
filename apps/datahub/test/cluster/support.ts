/**
 * DataHub runners of one cluster inside a test process: each a whole app on the same database,
 * sharing the cluster's SQL storage without sockets, with scripted history and a live stream of
 * the test's choosing.
 */
import { HttpServer } from "@effect/platform"
import type { Provider } from "@quasar/providers/sdk"
import { Context, Duration, Effect, Layer, Option, Scope } from "effect"
import { ClusterConfig } from "../../src/cluster/ClusterConfig"
import { ProviderOwnership } from "../../src/cluster/ProviderOwnership"
import { inProcessBarSource, inProcessLiveSource } from "../../src/testing/InProcessSources"
import { type Script, scriptedProvider } from "../collect/scripted"
import { collectingApp, runningLoops } from "../collect/support"

/** The in-process cluster tests' providers: six, so that each of two runners owns some. */
export const PROVIDERS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]

/** A live stream that acknowledges its symbols and then only beats: a connection to look at. */
export const quietLive = (provider: Provider): Provider => ({
  ...provider,
  async *live(ctx, request) {
    for (const symbol of request.symbols) yield { type: "subscribed", symbol } as const
    while (!ctx.signal.aborted) {
      yield { type: "heartbeat" } as const
      await new Promise((r) => setTimeout(r, 500))
    }
  }
})

/** A live stream that sends every symbol's forming bar of the current minute every 200 ms, rising. */
export const tickingLive = (provider: Provider): Provider => ({
  ...provider,
  async *live(ctx, request) {
    for (const symbol of request.symbols) yield { type: "subscribed", symbol } as const
    for (let tick = 1; !ctx.signal.aborted; tick++) {
      const ts = Math.floor(Date.now() / 60_000) * 60_000
      for (const symbol of request.symbols)
        yield {
          type: "bar",
          symbol,
          bar: { ts, open: 100, high: 100 + tick, low: 99, close: 100 + tick, volume: tick },
          closed: false
        } as const
      await new Promise((r) => setTimeout(r, 200))
    }
  }
})

/**
 * A runner named `name`. No runner dies in these tests, so nothing waits for the lock expiry; a
 * long one gives the lock operations (a third of it each) room on a loaded machine, where the
 * runners share one event loop.
 */
export const runner = (
  databaseUrl: string,
  name: string,
  scripts: ReadonlyArray<[string, Script]>,
  live: (provider: Provider) => Provider,
  lockExpiry: Duration.DurationInput
) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const config = Layer.succeed(ClusterConfig, {
      address: Option.some({ host: name, port: 1 }),
      listenHost: Option.none(),
      lockExpiry: Duration.decode(lockExpiry),
      socket: false,
      runner: `${name}:1`
    })
    const app = yield* Layer.buildWithScope(
      collectingApp({
        databaseUrl,
        source: inProcessBarSource(scripts.map(([n, s]) => scriptedProvider(n, s))),
        live: inProcessLiveSource(scripts.map(([n, s]) => live(scriptedProvider(n, s))))
      }).pipe(Layer.provide(config)),
      scope
    )
    const owned = Effect.flatMap(Effect.provide(ProviderOwnership, app), (o) => o.owned)
    const running = Effect.provide(runningLoops, app)
    const { address } = Context.get(app, HttpServer.HttpServer)
    const port = address._tag === "TcpAddress" ? address.port : 0
    return { app, scope, owned, running, liveUrl: `ws://127.0.0.1:${port}/live` }
  })
