import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Forbidden, TooManyAttempts, Unauthorized } from "./Errors"

/**
 * Every write needs `Authorization: Bearer <QUASAR_ADMIN_TOKEN>`: none → 401, a wrong one → 403.
 * Reads are open. The token is for people (the UI asks for it once); services never use it.
 */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Schema.Union(Unauthorized, Forbidden, TooManyAttempts),
  // Named apart from ServiceAuth's: OpenAPI lists each security scheme under this key.
  security: {
    adminToken: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "Authorization: Bearer <QUASAR_ADMIN_TOKEN>")
    )
  }
}) {}

/**
 * Service-to-service routes (under `/internal/`, never routed by Nginx) need
 * `Authorization: Bearer <QUASAR_SERVICE_TOKEN>`, a credential only the services hold. Missing,
 * malformed and wrong credentials all answer 401, checked before the request body is read.
 */
export class ServiceAuth extends HttpApiMiddleware.Tag<ServiceAuth>()("ServiceAuth", {
  failure: Schema.Union(Unauthorized, TooManyAttempts),
  security: {
    serviceToken: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(
        OpenApi.Description,
        "Authorization: Bearer <QUASAR_SERVICE_TOKEN> (service-to-service only)"
      )
    )
  }
}) {}
