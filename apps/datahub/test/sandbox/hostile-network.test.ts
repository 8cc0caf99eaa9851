import { createSocket } from "node:dgram"
import { rmSync } from "node:fs"
import { createServer } from "node:net"
import { getPriority, tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import type { SandboxAllowHosts } from "@quasar/sandbox/node"
import { TestService } from "@quasar/server/testing"
import { Context, Duration, Effect, HashMap, Layer, Logger, LogLevel } from "effect"
import { appLayer } from "../../src/App"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { escapeModule, escapes, fetchingJs } from "./fixtures/networkModules"
import { allowLocalServers, LocalServers } from "./localServers"
import { client, expectHealthy, messages, validate } from "./support"

/** Listeners on this host that record whatever reaches them: TCP, UDP and a Unix socket. */
class Watched extends Context.Tag("test/Watched")<
  Watched,
  { readonly tcp: number; readonly udp: number; readonly unixPath: string; readonly hits: Array<string> }
>() {
  static readonly layer = Layer.scoped(
    Watched,
    Effect.acquireRelease(
      Effect.promise(async () => {
        const hits: Array<string> = []
        const tcp = createServer((s) => {
          hits.push("tcp")
          s.destroy()
        })
        await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r))
        const unixPath = join(tmpdir(), `quasar-egress-${process.pid}.sock`)
        rmSync(unixPath, { force: true })
        const unix = createServer((s) => {
          hits.push("unix")
          s.destroy()
        })
        await new Promise<void>((r) => unix.listen(unixPath, r))
        const udp = createSocket("udp4")
        udp.on("message", () => hits.push("udp"))
        await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r))
        const close = () => {
          tcp.close()
          unix.close()
          udp.close()
        }
        const port = (a: unknown) => (a as { port: number }).port
        return { tcp: port(tcp.address()), udp: port(udp.address()), unixPath, hits, close }
      }),
      ({ close }) => Effect.sync(close)
    )
  )
}

/** Every "sandbox egress denied" line, with its annotations. */
const denials: Array<{ provider: unknown; url: unknown; reason: unknown }> = []
const recordDenials = Logger.add(
  Logger.make(({ message, annotations }) => {
    const text = Array.isArray(message) ? message.join(" ") : String(message)
    if (text !== "sandbox egress denied") return
    const get = (key: string) =>
      HashMap.get(annotations, key).pipe((o) => (o._tag === "Some" ? o.value : undefined))
    denials.push({ provider: get("provider"), url: get("url"), reason: get("reason") })
  })
)

const limits = {
  callTimeout: Duration.seconds(10),
  cancelGrace: Duration.seconds(1),
  restartDelay: Duration.millis(100)
}

const appWith = (allowHosts: Layer.Layer<SandboxAllowHosts, never, LocalServers>) =>
  TestService.layer(
    appLayer(limits, "pool", allowHosts)
      .pipe(Layer.provideMerge(MemoryCatalog.layer))
      .pipe(Layer.provideMerge(LocalServers.layer), Layer.provideMerge(Watched.layer))
  ).pipe(Layer.provide(recordDenials), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))

/** Validates and activates a provider that fetches (or connects to) `url`, then lists its assets. */
let uploads = 0
const listThrough = (url: string, socket = false) =>
  Effect.gen(function* () {
    const name = `egress-${uploads++}`
    const source = fetchingJs(name)
    const { report, manifest } = yield* validate(name, source)
    expect(report.issues).toEqual([])
    const catalog = yield* MemoryCatalog
    yield* catalog.putCode({ name, version: 1, status: "active", manifest, source })
    yield* catalog.putSettings(name, { url, socket })
    const api = yield* client
    const listed = yield* Effect.either(api.sandbox.listAssets({ path: { name: ProviderName.make(name) } }))
    return { name, listed }
  })

const refusedThrough = (url: string, reason: RegExp, socket = false) =>
  Effect.gen(function* () {
    const before = denials.length
    const { name, listed } = yield* listThrough(url, socket)
    expect(listed._tag).toBe("Left")
    if (listed._tag === "Left") {
      expect(listed.left.message).toContain("the sandbox's egress policy refused")
      expect(listed.left.message).toMatch(reason)
    }
    expect(denials.slice(before)).toContainEqual({
      provider: name,
      url: new URL(url).href,
      reason: expect.stringMatching(reason)
    })
    yield* expectHealthy
  })

/** Each case starts a sandbox of its own, one after another: slow on a loaded machine. */
const SANDBOXES_IN_TURN = 120_000

layer(appWith(allowLocalServers()), { timeout: 120_000, excludeTestServices: true })(
  "sandboxed code without network of its own",
  (it) => {
    it.effect(
      "every attempt to open a socket, listen, load native code or reach DataHub's process fails",
      () =>
        Effect.gen(function* () {
          const watched = yield* Watched
          const priority = getPriority(process.pid)
          const outcomes: Record<string, string> = {}
          for (const [what, attempt] of Object.entries(
            escapes(watched.tcp, watched.udp, watched.unixPath, process.pid)
          )) {
            const { report } = yield* validate("hostile-net", escapeModule(attempt))
            expect(report.ok, what).toBe(false)
            outcomes[what] = messages(report)
          }
          for (const [what, outcome] of Object.entries(outcomes)) {
            // A refusal either rejects the attempt or is thrown where nothing can catch it (listen()).
            expect(outcome, what).toMatch(
              /^the module threw while loading( \(line \d+, column \d+\))?: OUTCOME threw |^the module exited with code 1 while loading: Error: Access to this API has been restricted/
            )
            expect(outcome, what).not.toContain("reached")
          }
          expect(watched.hits).toEqual([])
          expect(getPriority(process.pid)).toBe(priority)
          yield* expectHealthy
        }),
      SANDBOXES_IN_TURN
    )

    it.effect("reaches the allowlisted fake through ctx.fetch and ctx.connect", () =>
      Effect.gen(function* () {
        const { httpUrl, wsUrl } = yield* LocalServers
        const viaFetch = yield* listThrough(httpUrl)
        expect(viaFetch.listed).toMatchObject({ _tag: "Right", right: { assets: [{ symbol: "HTTP-OK" }] } })
        const viaSocket = yield* listThrough(wsUrl, true)
        expect(viaSocket.listed).toMatchObject({ _tag: "Right", right: { assets: [{ symbol: "WS-OK" }] } })
      })
    )

    it.effect(
      "ctx.fetch and ctx.connect are refused on loopback in every spelling",
      () =>
        Effect.gen(function* () {
          const { tcp, hits } = yield* Watched
          for (const host of [
            "127.0.0.1",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "2130706433",
            "0x7f.1",
            "0177.0.0.1",
            "127.1",
            "localhost",
            "[::1]",
            "0.0.0.0"
          ])
            yield* refusedThrough(`http://${host}:${tcp}/`, /loopback|unspecified/)
          yield* refusedThrough(`ws://127.0.0.1:${tcp}/`, /loopback/, true)
          expect(hits).toEqual([])
        }),
      SANDBOXES_IN_TURN
    )

    it.effect(
      "ctx.fetch is refused on private, shared and metadata addresses and odd schemes",
      () =>
        Effect.gen(function* () {
          yield* refusedThrough("http://10.0.0.1/", /a private range \(10\.0\.0\.0\/8\)/)
          yield* refusedThrough("http://192.168.1.1/", /a private range/)
          yield* refusedThrough("http://172.16.5.4/", /a private range/)
          yield* refusedThrough("http://100.64.0.1/", /carrier-grade NAT/)
          yield* refusedThrough("http://169.254.169.254/latest/meta-data/", /link-local/)
          yield* refusedThrough("http://[fd00::1]/", /unique-local/)
          yield* refusedThrough("http://[fe80::1]/", /link-local/)
          yield* refusedThrough("file:///etc/passwd", /only http: and https:/)
        }),
      SANDBOXES_IN_TURN
    )
  }
)

const loopbackAllowed = allowLocalServers([{ host: "127.0.0.1" }, { host: "localhost" }])

layer(appWith(loopbackAllowed), {
  timeout: 120_000,
  excludeTestServices: true
})("with loopback allowlisted", (it) => {
  it.effect("the database's and DataHub's own ports stay closed", () =>
    Effect.gen(function* () {
      const server = yield* HttpServer.HttpServer
      const own = server.address._tag === "TcpAddress" ? server.address.port : 0
      yield* refusedThrough("http://127.0.0.1:5432/", /is the database/)
      yield* refusedThrough("http://localhost:5432/", /is the database/)
      yield* refusedThrough(`http://127.0.0.1:${own}/health`, /DataHub's own port/)
      const { httpUrl } = yield* LocalServers
      const reachable = yield* listThrough(httpUrl)
      expect(reachable.listed._tag).toBe("Right")
    })
  )
})
