/**
 * The only way the UI talks to the services: clients derived from the API contracts in
 * `@quasar/domain`, run over `fetch`. Every call resolves to an `Outcome` (never throws), whose
 * failure carries the server's own message. A write refused for lack of a valid token opens the
 * token dialog and is retried once the user gives one.
 */
import {
  FetchHttpClient,
  HttpApiClient,
  HttpClient,
  HttpClientError,
  HttpClientRequest
} from "@effect/platform"
import { DataHubApi, RegistryApi, TraderApi } from "@quasar/domain"
import { Cause, Effect, Exit, Option } from "effect"
import { useAdminToken } from "./useAdminToken"

const withToken = (token: string | null) =>
  token === null ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(token))

const registryClient = (token: string | null) =>
  HttpApiClient.make(RegistryApi, { baseUrl: "/api/registry", transformClient: withToken(token) })

const datahubClient = (token: string | null) =>
  HttpApiClient.make(DataHubApi, { baseUrl: "/api/datahub", transformClient: withToken(token) })

const traderClient = (token: string | null) =>
  HttpApiClient.make(TraderApi, { baseUrl: "/api/trader", transformClient: withToken(token) })

export type RegistryClient = Effect.Effect.Success<ReturnType<typeof registryClient>>
export type DataHubClient = Effect.Effect.Success<ReturnType<typeof datahubClient>>
export type TraderClient = Effect.Effect.Success<ReturnType<typeof traderClient>>

export interface ApiFailure {
  /** The error's tag (`NotFound`, `Conflict`, `ResponseError`, ...). */
  readonly tag: string
  /** What the server said, or what went wrong on the way. */
  readonly message: string
  /** The typed error itself, for callers that need its other fields (e.g. `Unhealthy.report`). */
  readonly error: unknown
}

export type Outcome<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly failure: ApiFailure }

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? Reflect.get(value, key) : undefined

/** Turns whatever failed into a tag and a message a person can act on. */
export const describeFailure = (error: unknown): ApiFailure => {
  const tag = String(field(error, "_tag") ?? "Error")
  const message = field(error, "message")
  const status = field(field(error, "response"), "status")
  if (tag === "ResponseError" && typeof status === "number" && status >= 500)
    return {
      tag,
      error,
      message: `the service answered HTTP ${status}: it is down or restarting — try again in a moment`
    }
  if (tag === "RequestError")
    return { tag, error, message: "cannot reach the server: check your connection and that Quasar runs" }
  return { tag, error, message: typeof message === "string" && message !== "" ? message : String(error) }
}

const isResponseError = (e: unknown): e is HttpClientError.ResponseError =>
  HttpClientError.isHttpClientError(e) && e._tag === "ResponseError"

/**
 * An answer the contract does not declare for this endpoint (a 503 while a dependency is down, a
 * gateway error) still usually carries `{ _tag, message }`: surface that message, not the status.
 */
const withServerMessage = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, unknown, R> =>
  Effect.catchIf(effect, isResponseError, (error) =>
    Effect.flatMap(Effect.option(error.response.json), (body): Effect.Effect<never, unknown> => {
      const message = Option.getOrUndefined(Option.map(body, (b) => field(b, "message")))
      const tag = Option.getOrUndefined(Option.map(body, (b) => field(b, "_tag")))
      return typeof message === "string" && message !== ""
        ? Effect.fail({ _tag: typeof tag === "string" ? tag : "ResponseError", message, error })
        : Effect.fail(error)
    })
  )

const run = async <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>): Promise<Outcome<A>> => {
  const exit = await Effect.runPromiseExit(
    withServerMessage(effect).pipe(Effect.provide(FetchHttpClient.layer))
  )
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  return {
    ok: false,
    failure: describeFailure(Option.isSome(failure) ? failure.value : Cause.squash(exit.cause))
  }
}

const needsToken = (failure: ApiFailure) => failure.tag === "Unauthorized" || failure.tag === "Forbidden"

const withAuthRetry = async <A>(attempt: (token: string | null) => Promise<Outcome<A>>) => {
  const auth = useAdminToken()
  let outcome = await attempt(auth.token.value)
  while (!outcome.ok && needsToken(outcome.failure)) {
    const token = await auth.request(outcome.failure.message)
    if (token === null) return outcome
    outcome = await attempt(token)
  }
  return outcome
}

/** Calls the Registry: `registry((c) => c.code.list())`. */
export const registry = <A, E>(call: (client: RegistryClient) => Effect.Effect<A, E>): Promise<Outcome<A>> =>
  withAuthRetry((token) => run(Effect.flatMap(registryClient(token), call)))

/** Calls DataHub: `datahub((c) => c.subscriptions.list({ urlParams: {} }))`. */
export const datahub = <A, E>(call: (client: DataHubClient) => Effect.Effect<A, E>): Promise<Outcome<A>> =>
  withAuthRetry((token) => run(Effect.flatMap(datahubClient(token), call)))

/** Calls Trader: `trader((c) => c.backtests.list({ urlParams: {} }))`. */
export const trader = <A, E>(call: (client: TraderClient) => Effect.Effect<A, E>): Promise<Outcome<A>> =>
  withAuthRetry((token) => run(Effect.flatMap(traderClient(token), call)))
