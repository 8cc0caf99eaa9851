/**
 * What a request body may be, per endpoint: the content types its payload schema documents
 * (JSON endpoints take `application/json` only, so no HTML form can post to them), a size limit
 * (`BodyLimit`, 1 MiB unless an endpoint says more; none at all for endpoints without a payload),
 * a declared `Content-Length`, and for JSON at most `MAX_JSON_DEPTH` levels of nesting.
 *
 * Every group adds `.middleware(BodyPolicy)` before any group-level credential middleware, so
 * the credential is checked first: an unauthenticated request is refused (401) whatever its body,
 * and no body is read before both pass.
 */
import { type HttpApiEndpoint, HttpApiMiddleware, type HttpMethod, OpenApi } from "@effect/platform"
import { Context, Schema } from "effect"
import { InvalidRequest, LengthRequired, PayloadTooLarge, UnsupportedMediaType } from "./Errors"

export const MiB = 1_048_576
export const DEFAULT_BODY_LIMIT = MiB
/** Deeper JSON is refused before it is decoded: no payload of ours nests past a few levels. */
export const MAX_JSON_DEPTH = 32

/** Endpoint annotation: the largest body it accepts, in bytes (default `DEFAULT_BODY_LIMIT`). */
export class BodyLimit extends Context.Tag("@quasar/domain/BodyLimit")<BodyLimit, number>() {}

/** Raises an endpoint's body limit, and says so in the OpenAPI document (`x-max-body-bytes`). */
export const limitBody =
  (bytes: number) =>
  <
    Name extends string,
    Method extends HttpMethod.HttpMethod,
    Path,
    UrlParams,
    Payload,
    Headers,
    Success,
    Error,
    R,
    RE
  >(
    endpoint: HttpApiEndpoint.HttpApiEndpoint<
      Name,
      Method,
      Path,
      UrlParams,
      Payload,
      Headers,
      Success,
      Error,
      R,
      RE
    >
  ) =>
    endpoint.annotate(BodyLimit, bytes).annotate(OpenApi.Override, { "x-max-body-bytes": bytes })

export class BodyPolicy extends HttpApiMiddleware.Tag<BodyPolicy>()("BodyPolicy", {
  failure: Schema.Union(PayloadTooLarge, UnsupportedMediaType, LengthRequired, InvalidRequest)
}) {}
