/**
 * One logger for every service: one JSON object per line with level, message, annotations,
 * log spans, and the trace/span ids of the current span, so a line can be joined to its trace.
 */
import { Context, FiberRef, FiberRefs, Layer, Logger, type LogLevel, Option, Tracer } from "effect"

const jsonLogger = (service: string) =>
  Logger.make((options) => {
    const base = Logger.structuredLogger.log(options)
    const span = Context.getOption(
      FiberRefs.getOrDefault(options.context, FiberRef.currentContext),
      Tracer.ParentSpan
    )
    const line: Record<string, unknown> = {
      time: base.timestamp,
      level: base.logLevel,
      service,
      message: base.message,
      ...base.annotations
    }
    if (Option.isSome(span)) {
      line.traceId = span.value.traceId
      line.spanId = span.value.spanId
    }
    if (Object.keys(base.spans).length > 0) line.spans = base.spans
    if (base.cause !== undefined) line.cause = base.cause
    return JSON.stringify(line)
  })

/** JSON lines on stdout at `level` and above. */
export const layer = (service: string, level: LogLevel.LogLevel): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLogger(service))),
    Logger.minimumLogLevel(level)
  )
