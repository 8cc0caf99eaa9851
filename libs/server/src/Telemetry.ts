/**
 * Traces, metrics and logs over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
 * spans still carry trace and span ids into the JSON logs (see Logging.ts). Trace context
 * travels between the services in `traceparent` headers (HttpClient adds them, the server
 * middleware reads them), so one trace spans Registry → DataHub.
 */

import * as Otlp from "@effect/opentelemetry/Otlp"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import { FetchHttpClient } from "@effect/platform"
import { Layer, Option } from "effect"

export const layer = (serviceName: string, endpoint: Option.Option<string>): Layer.Layer<never> =>
  Option.match(endpoint, {
    onNone: () => Layer.empty,
    onSome: (baseUrl) =>
      Otlp.layer({ baseUrl, resource: { serviceName: `quasar-${serviceName}` } }).pipe(
        Layer.provide(OtlpSerialization.layerJson),
        Layer.provide(FetchHttpClient.layer)
      )
  })
