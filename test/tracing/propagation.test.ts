/**
 * One trace spans Registry → DataHub: an upload's validation call carries the trace context,
 * and both services export their spans over OTLP/HTTP (here to a fake collector we own).
 */
import { createServer, type IncomingMessage } from "node:http"
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { RegistryApi } from "@quasar/domain"
import { DatabaseUrl, SchemaState, Telemetry } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Effect, Layer, Option, Redacted, Schedule } from "effect"
import { RegistryLive as registryApp } from "../../apps/registry/src/App"
import { validJs } from "../fixtures/providerModules"
import { registryWithDataHub } from "../support/registryLink"

interface ExportedSpan {
  readonly service: string
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
}

interface OtlpTraces {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: {
      readonly attributes?: ReadonlyArray<{ key: string; value: { stringValue?: string } }>
    }
    readonly scopeSpans?: ReadonlyArray<{
      readonly spans?: ReadonlyArray<{ name: string; traceId: string; spanId: string; parentSpanId?: string }>
    }>
  }>
}

/** A fake OTLP/HTTP collector: remembers every span posted to /v1/traces. */
const collector = Effect.acquireRelease(
  Effect.async<{ url: string; spans: Array<ExportedSpan>; close: () => void }>((resume) => {
    const spans: Array<ExportedSpan> = []
    const read = (req: IncomingMessage) =>
      new Promise<string>((done) => {
        let body = ""
        req.on("data", (c: Buffer) => {
          body += c.toString()
        })
        req.on("end", () => done(body))
      })
    const server = createServer(async (req, res) => {
      const body = await read(req)
      if (req.url === "/v1/traces") {
        const payload = JSON.parse(body) as OtlpTraces
        for (const rs of payload.resourceSpans ?? []) {
          const service =
            rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? ""
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ service, ...s })
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address ? address.port : 0
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, spans, close: () => server.close() }))
    })
  }),
  (c) => Effect.sync(c.close)
)

class Collector extends Effect.Tag("test/Collector")<Collector, { readonly spans: Array<ExportedSpan> }>() {}

const stack = Layer.unwrapScoped(
  Effect.gen(function* () {
    const otlp = yield* collector
    const url = yield* TestDatabase.fresh
    const database = DatabaseUrl.layer(Redacted.make(url))
    const endpoint = Option.some(otlp.url)
    return registryWithDataHub(
      database,
      (datahubUrl) =>
        TestService.layer(
          registryApp.pipe(Layer.provide(Telemetry.layer("registry", endpoint))),
          database,
          TestService.testConfig({ datahubUrl })
        ),
      Telemetry.layer("datahub", endpoint)
    ).pipe(Layer.merge(Layer.succeed(Collector, { spans: otlp.spans })))
  })
)

layer(stack, { timeout: 120_000, excludeTestServices: true })("trace propagation", (it) => {
  it.effect(
    "an upload's spans in Registry and DataHub share one trace, DataHub's under Registry's call",
    () =>
      Effect.gen(function* () {
        yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
        const api = yield* HttpApiClient.make(RegistryApi, {
          transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN))
        })
        yield* api.code.upload({
          path: { name: "traced" as never },
          payload: { kind: "provider", language: "javascript", source: validJs("traced") }
        })
        const { spans } = yield* Collector
        // Spans are exported in batches every few seconds.
        const validate = yield* Effect.sync(() =>
          spans.find(
            (s) => s.service === "quasar-datahub" && s.name.includes("POST") && s.name.includes("http")
          )
        ).pipe(
          Effect.filterOrFail((s): s is ExportedSpan => s !== undefined),
          Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("20 seconds")))
        )
        const registrySpans = yield* Effect.sync(() =>
          spans.filter((s) => s.service === "quasar-registry" && s.traceId === validate.traceId)
        ).pipe(
          Effect.filterOrFail((xs) => xs.length > 0),
          Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("20 seconds")))
        )
        expect(registrySpans.map((s) => s.name)).toEqual(
          expect.arrayContaining([expect.stringContaining("upload")])
        )
        // DataHub's server span is a child of a Registry span (the outgoing HTTP call).
        expect(registrySpans.map((s) => s.spanId)).toContain(validate.parentSpanId)
      })
  )
})
