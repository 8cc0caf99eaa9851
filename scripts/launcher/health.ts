/**
 * Waits until every service answers `GET /health` with 200. A service that is up but unhealthy
 * answers 503 with a reason (database down, migrations pending): on timeout that last answer is
 * what the user sees, next to the name of the service.
 */
import { get } from "node:http"
import { Duration, Effect, Schedule } from "effect"
import { LauncherError } from "./LauncherError"

export interface HealthTarget {
  readonly name: string
  readonly url: string
}

interface Probe {
  readonly ok: boolean
  readonly detail: string
}

const PROBE_TIMEOUT_MS = 2_000

/** One `GET`; never fails, the outcome says what happened. */
export const probe = (url: string) =>
  Effect.async<Probe>((resume) => {
    const req = get(url, { timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        if (body.length < 500) body += chunk
      })
      res.on("end", () =>
        resume(
          Effect.succeed({ ok: res.statusCode === 200, detail: `HTTP ${res.statusCode}: ${reason(body)}` })
        )
      )
      res.on("error", (e) => resume(Effect.succeed({ ok: false, detail: e.message })))
    })
    req.on("timeout", () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)))
    req.on("error", (e: NodeJS.ErrnoException) =>
      resume(
        Effect.succeed({ ok: false, detail: e.code === "ECONNREFUSED" ? "not listening yet" : e.message })
      )
    )
    return Effect.sync(() => req.destroy())
  })

/** The `message` of a JSON error body (what 503 carries), else the body itself. */
const reason = (body: string): string => {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null && "message" in parsed) return String(parsed.message)
  } catch {
    // not JSON: show it as it is
  }
  return body.trim().slice(0, 200) || "(empty body)"
}

export const waitHealthy = (targets: ReadonlyArray<HealthTarget>, timeout: Duration.DurationInput) => {
  const last = new Map(targets.map((t) => [t.name, "no answer yet"]))
  const pending = new Set(targets.map((t) => t.name))
  const untilUp = (target: HealthTarget) =>
    probe(target.url).pipe(
      Effect.tap((p) => Effect.sync(() => last.set(target.name, p.detail))),
      Effect.repeat({ until: (p) => p.ok, schedule: Schedule.spaced("250 millis") }),
      Effect.tap(() => Effect.sync(() => pending.delete(target.name)))
    )
  return Effect.all(targets.map(untilUp), { concurrency: "unbounded", discard: true }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new LauncherError({
          message: `not up after ${Duration.format(Duration.decode(timeout))}: ${[...pending]
            .map((name) => `${name} (${last.get(name)})`)
            .join(", ")}`
        })
    })
  )
}
