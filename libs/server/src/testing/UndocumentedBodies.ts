/**
 * The class of request a payload decoder must never see: a body whose media type the endpoint
 * does not document, empty or not. Every endpoint taking a body gets each such type and must
 * answer 415 at once; a decoder reached anyway can hold the connection for good (a multipart
 * parser given no boundary waits for one).
 */
import { request } from "node:http"
import { type HttpApi, type HttpApiGroup, HttpServer } from "@effect/platform"
import { INTERNAL_PREFIX } from "@quasar/domain"
import { type Duration, Effect } from "effect"
import * as RouteTable from "../RouteTable"
import { ADMIN_TOKEN, SERVICE_TOKEN } from "./TestService"

const TYPES = [
  "multipart/form-data; boundary=x",
  "multipart/form-data",
  "multipart/mixed; boundary=x",
  "application/x-www-form-urlencoded",
  "text/plain",
  "text/csv",
  "application/octet-stream",
  "application/jsonx"
]

const BODIES = ["", "--x\r\n", "a=b", "{}"]

/** One request on its own connection: its status, or "no answer" past `within`. */
const send = (port: number, method: string, path: string, headers: Record<string, string>, body: string) =>
  Effect.async<number>((resume) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: { ...headers, "content-length": `${body.length}` }
      },
      (res) => {
        res.resume()
        res.on("end", () => resume(Effect.succeed(res.statusCode ?? 0)))
      }
    )
    req.on("error", () => resume(Effect.succeed(0)))
    req.end(body)
    return Effect.sync(() => req.destroy())
  })

/**
 * Sends every undocumented type, with each of a few bodies, to every endpoint of `api` that
 * takes one, on the server under test (path parameters filled with `1`, the credential its
 * prefix needs): what did not get a 415 within `within`, as `METHOD path type body → status`.
 */
export const probe = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  within: Duration.DurationInput = "10 seconds"
) =>
  Effect.gen(function* () {
    const { address } = yield* HttpServer.HttpServer
    const port = address._tag === "TcpAddress" ? address.port : 0
    const routes = RouteTable.make(api).routes.filter((r) => r.maxBodyBytes > 0)
    const requests = routes.flatMap((route) => {
      const path = route.template.replace(/:\w+/g, "1")
      const token = path.startsWith(`${INTERNAL_PREFIX}/`) ? SERVICE_TOKEN : ADMIN_TOKEN
      return TYPES.filter((t) => !route.contentTypes.includes(t.split(";")[0] ?? t)).flatMap((type) =>
        BODIES.map((body) => ({ method: route.method, path, type, body, token }))
      )
    })
    // At once, a few at a time: requests that hang cost one deadline together, not one each.
    const statuses = yield* Effect.forEach(
      requests,
      (r) =>
        send(
          port,
          r.method,
          r.path,
          { authorization: `Bearer ${r.token}`, "content-type": r.type },
          r.body
        ).pipe(Effect.timeoutTo({ duration: within, onTimeout: () => "no answer", onSuccess: String })),
      { concurrency: 32 }
    )
    const wrong = requests.flatMap((r, i) =>
      statuses[i] === "415"
        ? []
        : [`${r.method} ${r.path} ${r.type} ${JSON.stringify(r.body)} → ${statuses[i]}`]
    )
    return { routes: routes.length, wrong }
  })
