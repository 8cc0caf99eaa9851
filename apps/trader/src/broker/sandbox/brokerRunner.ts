/**
 * The program inside a broker's sandbox child: `node <flags> runner.mjs module.mjs`. It takes away
 * what the permission model leaves reachable and waits for Trader's token (`@quasar/sandbox`
 * startRunner), loads the bundled broker, checks its default export, says `Loaded` (or
 * `LoadFailed`), then answers Trader's calls (protocol.ts). The child has no network of its own:
 * `ctx.fetch` and `ctx.connect` are relayed to Trader, which applies the egress policy; the
 * broker's `rateLimit` paces its requests here, per account (one child per opened account).
 * Bundled by esbuild at Trader's start (see SandboxWorkspace).
 */
import { pathToFileURL } from "node:url"
import { makeTokenBucket } from "@quasar/providers/host"
import type { Broker, OrderRef, OrderRequest, SettingsSpec } from "@quasar/providers/sdk"
import { makeChildContexts, makeChildLogger, startRunner } from "@quasar/sandbox/child"
import { BROKER_CALLS, type BrokerThrown, type ChildMessage, type HostMessage } from "./protocol"

const REQUEST_TIMEOUT_MS = 30_000

const { post, denied, token } = await startRunner<ChildMessage>("broker runner")

/** A permission-model refusal in `e` or its causes (fetch wraps it: "fetch failed"). */
const accessDenied = (e: unknown): Record<string, unknown> | undefined => {
  for (let cur = e, depth = 0; typeof cur === "object" && cur !== null && depth < 4; depth++) {
    const fields = cur as Record<string, unknown>
    if (fields.code === "ERR_ACCESS_DENIED") return fields
    cur = fields.cause
  }
  return undefined
}

const describeError = (e: unknown): string => {
  try {
    if (typeof e !== "object" || e === null) return String(e)
    const refusal = accessDenied(e)
    if (refusal !== undefined) {
      const { permission, resource } = refusal
      const what = typeof permission === "string" ? permission : "an operation"
      denied(`${what}${typeof resource === "string" ? ` (${resource})` : ""}`)
      return `the sandbox denied ${what}${typeof resource === "string" ? ` access to ${resource}` : ""}: broker code may only use what the SDK context offers (fetch, connect, log)`
    }
    const { message, cause } = e as Record<string, unknown>
    const why = cause instanceof Error ? ` (${cause.message})` : ""
    return `${typeof message === "string" ? message : String(e)}${why}`
  } catch {
    return "an error that cannot be described"
  }
}

const thrown = (e: unknown): BrokerThrown => {
  try {
    const { name, reason, retryAfterMs } = (typeof e === "object" && e !== null ? e : {}) as Record<
      string,
      unknown
    >
    return {
      name: typeof name === "string" ? name : "Error",
      message: describeError(e),
      ...(typeof reason === "string" ? { reason } : {}),
      ...(typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) ? { retryAfterMs } : {})
    }
  } catch {
    return { name: "Error", message: "an error that cannot be described" }
  }
}

const loggerFor = makeChildLogger(post)

process.on("unhandledRejection", (e) =>
  loggerFor().error("unhandled promise rejection in broker code", { error: describeError(e) })
)

/** Runs `f`, turning a synchronous throw into a rejection. */
const attempt = <A>(f: () => A | PromiseLike<A>): Promise<A> => new Promise<A>((resolve) => resolve(f()))

const METHODS = [...BROKER_CALLS, "orderUpdates"] as const

/** The export's fields read once: a getter cannot answer differently later. */
const snapshot = (value: unknown): Broker<SettingsSpec> | string => {
  if (typeof value !== "object" || value === null)
    return "the module's default export must be a broker: export default defineBroker({ … })"
  const v = value as Record<string, unknown>
  if (v.kind !== "broker") return `the default export is not a broker (kind ${JSON.stringify(v.kind)})`
  if (typeof v.name !== "string") return "the broker needs a name (a string)"
  const missing = METHODS.filter((m) => typeof v[m] !== "function")
  if (missing.length > 0) return `the broker lacks ${missing.join(", ")}`
  const limit = v.rateLimit as { requestsPerSecond?: unknown; burst?: unknown } | undefined
  const rateLimit =
    typeof limit === "object" && limit !== null && typeof limit.requestsPerSecond === "number"
      ? {
          requestsPerSecond: limit.requestsPerSecond,
          ...(typeof limit.burst === "number" ? { burst: limit.burst } : {})
        }
      : undefined
  const bound = Object.fromEntries(
    METHODS.map((m) => [m, (v[m] as (...a: Array<unknown>) => unknown).bind(value)])
  )
  return { ...(bound as unknown as Broker<SettingsSpec>), kind: "broker", name: v.name, rateLimit }
}

const load = async (): Promise<Broker<SettingsSpec> | undefined> => {
  try {
    const path = process.argv[2]
    if (!path) throw new Error("the runner was started without a module path")
    const namespace = (await import(pathToFileURL(path).href)) as { readonly default?: unknown }
    const broker = snapshot(namespace.default)
    if (typeof broker === "string") {
      post({ _tag: "LoadFailed", token, problems: [broker] })
      return undefined
    }
    post({ _tag: "Loaded", token, name: broker.name })
    return broker
  } catch (e) {
    post({ _tag: "LoadFailed", token, problems: [`the module threw while loading: ${describeError(e)}`] })
    return undefined
  }
}

const serve = (broker: Broker<SettingsSpec>) => {
  let bucket: ReturnType<typeof makeTokenBucket> | undefined
  try {
    bucket = broker.rateLimit ? makeTokenBucket(broker.rateLimit) : undefined
  } catch {
    loggerFor().warn("the broker's rateLimit is not valid; its requests are not paced")
  }

  const relay = makeChildContexts(post, { bucket, loggerFor, requestTimeoutMs: REQUEST_TIMEOUT_MS })

  const calls = new Map<number, AbortController>()
  const streams = new Map<
    number,
    { readonly controller: AbortController; readonly iterator: AsyncIterator<unknown> }
  >()

  const reply = (id: number, message: ChildMessage) => {
    if (!post(message))
      post({
        _tag: "Failed",
        id,
        error: {
          name: "Error",
          message: "the broker returned a value that cannot be sent (functions, symbols…)"
        }
      })
  }

  const call = (message: Extract<HostMessage, { _tag: "Call" }>) => {
    const { id } = message
    const controller = new AbortController()
    calls.set(id, controller)
    const ctx = relay.contextFor(id, message.settings, controller.signal)
    const run = (): Promise<unknown> => {
      switch (message.method) {
        case "placeOrder":
          return broker.placeOrder(ctx, message.argument as OrderRequest)
        case "cancelOrder":
          return broker.cancelOrder(ctx, message.argument as OrderRef)
        case "findOrder":
          return broker.findOrder(ctx, message.argument as OrderRef)
        case "openOrders":
          return broker.openOrders(ctx)
        case "positions":
          return broker.positions(ctx)
        case "balances":
          return broker.balances(ctx)
      }
    }
    attempt(run).then(
      (value) => calls.delete(id) && reply(id, { _tag: "Result", id, value }),
      (e: unknown) => calls.delete(id) && post({ _tag: "Failed", id, error: thrown(e) })
    )
  }

  const open = (message: Extract<HostMessage, { _tag: "Open" }>) => {
    const { id } = message
    const controller = new AbortController()
    try {
      const ctx = relay.contextFor(id, message.settings, controller.signal)
      const iterator = broker.orderUpdates(ctx, { since: message.since })[Symbol.asyncIterator]()
      streams.set(id, { controller, iterator })
    } catch (e) {
      post({ _tag: "Failed", id, error: thrown(e) })
    }
  }

  const pull = (id: number) => {
    const stream = streams.get(id)
    if (!stream)
      return void post({ _tag: "Failed", id, error: { name: "Error", message: `no open stream ${id}` } })
    attempt(() => stream.iterator.next()).then(
      (result) => {
        if (streams.get(id) !== stream) return
        if (result.done) {
          streams.delete(id)
          return void post({ _tag: "Done", id })
        }
        reply(id, { _tag: "Item", id, value: result.value })
      },
      (e: unknown) => {
        if (streams.get(id) !== stream) return
        streams.delete(id)
        post({ _tag: "Failed", id, error: thrown(e) })
      }
    )
  }

  const cancel = (id: number) => {
    calls.get(id)?.abort()
    calls.delete(id)
    const stream = streams.get(id)
    if (stream) {
      streams.delete(id)
      stream.controller.abort()
      attempt(() => stream.iterator.return?.()).catch(() => undefined)
    }
    post({ _tag: "Cancelled", id })
  }

  process.on("message", (raw) => {
    const message = raw as HostMessage
    switch (message._tag) {
      case "Call":
        return call(message)
      case "Open":
        return open(message)
      case "Pull":
        return pull(message.id)
      case "Cancel":
        return cancel(message.id)
      case "Ping":
        return void post({ _tag: "Pong", id: message.id })
      default:
        relay.receive(message)
    }
  })
}

// After LoadFailed the host kills the child; it answers nothing meanwhile.
const broker = await load()
if (broker) serve(broker)
