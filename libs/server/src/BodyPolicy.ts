/**
 * `BodyPolicy` as the endpoint the router matched describes it (`RouteTable`), checked from the
 * headers alone, after the credential middlewares: a body on an endpoint without a payload or
 * larger than its limit → 413, of unknown length → 411, of an undocumented type → 415, empty or
 * not. Only then is a JSON body read, and refused (400) when it is not JSON or nests deeper than
 * `MAX_JSON_DEPTH` — deep nesting would otherwise overflow the stack of the schema's decoder or
 * of its error formatter.
 */
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import {
  BodyPolicy,
  InvalidRequest,
  LengthRequired,
  MAX_JSON_DEPTH,
  PayloadTooLarge,
  UnsupportedMediaType
} from "@quasar/domain"
import { Effect, Layer } from "effect"
import type * as RouteTable from "./RouteTable"

/** The deepest nesting of `[`/`{` outside strings, stopping early past `limit`. */
export const jsonDepth = (text: string, limit: number): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92)
        i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

/** The media type of a Content-Type header, without its parameters, as routes document it. */
export const mediaType = (header: string | undefined) =>
  (header ?? "").split(";")[0]?.trim().toLowerCase() ?? ""

const checkJson = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.flatMap(
    Effect.mapError(
      request.text,
      () => new InvalidRequest({ field: "body", message: "the request body could not be read" })
    ),
    (text) => {
      if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
        return Effect.fail(
          new InvalidRequest({
            field: "body",
            message: `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`
          })
        )
      try {
        JSON.parse(text === "" ? "null" : text)
        return Effect.void
      } catch (e) {
        return Effect.fail(
          new InvalidRequest({
            field: "body",
            message: `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`
          })
        )
      }
    }
  )

export const layer = (routes: RouteTable.RouteTable) =>
  Layer.succeed(
    BodyPolicy,
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { route } = yield* HttpRouter.RouteContext
      const spec = routes.spec(route.method, route.path)
      if (spec === undefined) return
      const { headers } = request
      const declared = headers["content-length"]
      const length = declared === undefined ? undefined : Number(declared)
      const type = mediaType(headers["content-type"])
      const unaccepted = () =>
        new UnsupportedMediaType({
          accepted: spec.contentTypes,
          message: `Content-Type ${type === "" ? "(none)" : type} is not accepted here; send ${spec.contentTypes.join(" or ")}`
        })
      if (length === 0 || (length === undefined && headers["transfer-encoding"] === undefined)) {
        // No body, but a type the payload decoder would act on: a multipart parser given nothing
        // waits for a boundary that never comes, holding the connection for good.
        if (spec.maxBodyBytes > 0 && type !== "" && !spec.contentTypes.includes(type))
          return yield* unaccepted()
        return
      }
      if (spec.maxBodyBytes === 0)
        return yield* new PayloadTooLarge({
          limitBytes: 0,
          message: `${route.method} ${route.path} takes no request body`
        })
      if (length === undefined || !Number.isSafeInteger(length))
        return yield* new LengthRequired({
          message: "send the body with a Content-Length header (no chunked upload)"
        })
      if (length > spec.maxBodyBytes)
        return yield* new PayloadTooLarge({
          limitBytes: spec.maxBodyBytes,
          message: `the body is ${length} bytes; ${route.method} ${route.path} accepts at most ${spec.maxBodyBytes}`
        })
      if (!spec.contentTypes.includes(type)) return yield* unaccepted()
      if (type === "application/json") yield* checkJson(request)
    })
  )
