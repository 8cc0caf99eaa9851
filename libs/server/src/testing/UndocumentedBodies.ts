/**
 * The class of request a payload decoder must never see: a body whose media type the endpoint
 * does not document, empty or not. Every endpoint taking a body gets each such type and must
 * answer 415 at once; a decoder reached anyway can hold the connection for good (a multipart
 * parser given no boundary waits for one).
 */
import type { HttpApi, HttpApiGroup } from "@effect/platform"
import { INTERNAL_PREFIX } from "@quasar/domain"
import { type Duration, Effect } from "effect"
import { mediaType } from "../BodyPolicy"
import * as RouteTable from "../RouteTable"
import { port, raw } from "./RawHttp"
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
    const p = yield* port
    const routes = RouteTable.make(api).routes.filter((r) => r.maxBodyBytes > 0)
    const requests = routes.flatMap((route) => {
      const path = route.template.replace(/:\w+/g, "1")
      const token = path.startsWith(`${INTERNAL_PREFIX}/`) ? SERVICE_TOKEN : ADMIN_TOKEN
      return TYPES.filter((t) => !route.contentTypes.includes(mediaType(t))).flatMap((type) =>
        BODIES.map((body) => ({ method: route.method, path, type, body, token }))
      )
    })
    // At once, a few at a time: requests that hang cost one deadline together, not one each.
    const statuses = yield* Effect.forEach(
      requests,
      (r) =>
        raw(p, {
          method: r.method,
          path: r.path,
          headers: { authorization: `Bearer ${r.token}`, "content-type": r.type },
          body: r.body
        }).pipe(
          Effect.map((answer) => String(answer.status)),
          Effect.catchAll((e) => Effect.succeed(`error: ${e.message}`)),
          Effect.timeoutTo({ duration: within, onTimeout: () => "no answer", onSuccess: (status) => status })
        ),
      { concurrency: 32 }
    )
    const wrong = requests.flatMap((r, i) =>
      statuses[i] === "415"
        ? []
        : [`${r.method} ${r.path} ${r.type} ${JSON.stringify(r.body)} → ${statuses[i]}`]
    )
    return { routes: routes.length, wrong }
  })
