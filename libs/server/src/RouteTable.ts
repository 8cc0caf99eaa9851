/**
 * What the HttpApi definition says about each route, looked up per request: its template (the
 * `route` label of the request metrics, so tens of thousands of distinct paths still make one
 * label per route), and what its body may be (`BodyPolicy`). Built once from the API itself, so
 * the schemas stay the single source of truth.
 */
import { HttpApi, type HttpApiGroup, HttpMethod } from "@effect/platform"
import { BodyLimit, DEFAULT_BODY_LIMIT } from "@quasar/domain"
import { Context } from "effect"

export interface RouteSpec {
  readonly method: string
  /** As the router knows it: `/code/:name/versions/:version`. */
  readonly template: string
  /** 0 for an endpoint without a payload: it takes no body. */
  readonly maxBodyBytes: number
  /** Media types its payload documents (`application/json`, `text/csv`). */
  readonly contentTypes: ReadonlyArray<string>
}

/** The label of every request no route answers (unknown paths, wrong methods). */
export const UNMATCHED = "unmatched"

export interface RouteTable {
  /** Every endpoint of the API, as the definition describes it. */
  readonly routes: ReadonlyArray<RouteSpec>
  /** The spec of the endpoint the router matched (method and template as in `RouteContext`). */
  readonly spec: (method: string, template: string) => RouteSpec | undefined
  /** The metrics label of a request: its route's template, or `UNMATCHED`. */
  readonly label: (method: string, path: string) => string
  /** The largest body any endpoint accepts. */
  readonly largestBody: number
}

const segmentsOf = (path: string) =>
  path
    .toLowerCase()
    .split("/")
    .filter((s) => s !== "")

const params = (segments: ReadonlyArray<string>) =>
  segments.filter((s) => s.startsWith(":") || s === "*").length

/** `extra` adds routes served outside the API (docs, WebSockets); a trailing `*` matches the rest. */
export const make = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  extra: ReadonlyArray<{ readonly method: string; readonly template: string }> = []
): RouteTable => {
  const specs = new Map<string, RouteSpec>()
  HttpApi.reflect(api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, payloads, mergedAnnotations }) => {
      const takesBody = HttpMethod.hasBody(endpoint.method) && payloads.size > 0
      specs.set(`${endpoint.method} ${endpoint.path}`, {
        method: endpoint.method,
        template: endpoint.path,
        maxBodyBytes: takesBody
          ? Context.getOrElse(mergedAnnotations, BodyLimit, () => DEFAULT_BODY_LIMIT)
          : 0,
        contentTypes: takesBody ? [...payloads.keys()] : []
      })
    }
  })
  // Static segments win over parameters, as in the router: `/mappings/suggestions` before `/mappings/:x`.
  const patterns = [...specs.values(), ...extra]
    .map((r) => ({ method: r.method, template: r.template, segments: segmentsOf(r.template) }))
    .sort((a, b) => params(a.segments) - params(b.segments))
  const matches = (segments: ReadonlyArray<string>, pattern: ReadonlyArray<string>) => {
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i]
      if (p === "*") return true
      const s = segments[i]
      if (s === undefined || (p !== s && !p?.startsWith(":"))) return false
    }
    return segments.length === pattern.length
  }
  return {
    routes: [...specs.values()],
    largestBody: Math.max(DEFAULT_BODY_LIMIT, ...[...specs.values()].map((s) => s.maxBodyBytes)),
    spec: (method, template) => specs.get(`${method} ${template}`),
    label: (method, path) => {
      const segments = segmentsOf(path.split(/[?;#]/, 1)[0] ?? "")
      const found = patterns.find(
        (p) =>
          (p.method === method || (method === "HEAD" && p.method === "GET")) && matches(segments, p.segments)
      )
      return found?.template ?? UNMATCHED
    }
  }
}
