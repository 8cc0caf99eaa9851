import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { MAX_RESPONSE_BYTES, SandboxAllowHosts } from "@quasar/sandbox/node"
import { TestService } from "@quasar/server/testing"
import { Context, Duration, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import { appLayer } from "../../src/App"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { fetchingJs } from "./fixtures/networkModules"
import { client, expectHealthy, validate } from "./support"

/** `/hang` never answers (and counts requests opened and closed); `/big` streams past the bound. */
class Upstream extends Context.Tag("test/Upstream")<
  Upstream,
  { readonly url: string; readonly hanging: { opened: number; closed: number } }
>() {
  static readonly layer = Layer.scoped(
    Upstream,
    Effect.acquireRelease(
      Effect.promise(async () => {
        const hanging = { opened: 0, closed: 0 }
        const chunk = Buffer.alloc(1024 * 1024, 120)
        const server = createServer((req, res) => {
          if (req.url === "/hang") {
            hanging.opened++
            req.socket.on("close", () => hanging.closed++)
            return
          }
          let sent = 0
          const more = () => {
            while (sent <= MAX_RESPONSE_BYTES + chunk.length) {
              sent += chunk.length
              if (!res.write(chunk)) return void res.once("drain", more)
            }
            res.end()
          }
          res.on("close", () => {
            sent = Number.POSITIVE_INFINITY
          })
          more()
        })
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
        const { port } = server.address() as AddressInfo
        return { url: `http://127.0.0.1:${port}`, hanging, close: () => server.close() }
      }),
      ({ close }) => Effect.sync(close)
    )
  )
}

const allowUpstream = Layer.effect(
  SandboxAllowHosts,
  Effect.map(Upstream, ({ url }) => [{ host: "127.0.0.1", port: Number(new URL(url).port) }])
)

const app = TestService.layer(
  appLayer(
    {
      callTimeout: Duration.seconds(10),
      cancelGrace: Duration.seconds(2),
      restartDelay: Duration.millis(100)
    },
    "pool",
    allowUpstream
  )
    .pipe(Layer.provideMerge(MemoryCatalog.layer))
    .pipe(Layer.provideMerge(Upstream.layer))
).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

let uploads = 0
const listThrough = (url: string) =>
  Effect.gen(function* () {
    const name = `relay-${uploads++}`
    const source = fetchingJs(name)
    const { manifest } = yield* validate(name, source)
    const catalog = yield* MemoryCatalog
    yield* catalog.putCode({ name, version: 1, status: "active", manifest, source })
    yield* catalog.putSettings(name, { url })
    const api = yield* client
    return yield* Effect.flip(api.sandbox.listAssets({ path: { name: ProviderName.make(name) } }))
  })

layer(app, { timeout: 120_000, excludeTestServices: true })("the egress relay", (it) => {
  it.effect("aborts the upstream request of a call DataHub cancels", () =>
    Effect.gen(function* () {
      const { url, hanging } = yield* Upstream
      const failed = yield* listThrough(`${url}/hang`)
      expect(failed.message).toContain("did not answer within 10 s; DataHub cancelled it")
      expect(hanging.opened).toBe(1)
      yield* Effect.sync(() => hanging.closed).pipe(
        Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (n) => n === 1, times: 100 })
      )
      expect(hanging.closed).toBe(1)
      yield* expectHealthy
    })
  )

  it.effect("fails a response larger than the bound", () =>
    Effect.gen(function* () {
      const { url } = yield* Upstream
      const failed = yield* listThrough(`${url}/big`)
      expect(failed.message).toContain(`the response is larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MB`)
      yield* expectHealthy
    })
  )
})
