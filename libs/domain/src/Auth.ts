import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Schema } from "effect"
import { Forbidden, Unauthorized } from "./Errors"

/**
 * Every write needs `Authorization: Bearer <QUASAR_ADMIN_TOKEN>`: none → 401, a wrong one → 403.
 * Reads are open.
 */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Schema.Union(Unauthorized, Forbidden),
  security: { bearer: HttpApiSecurity.bearer }
}) {}
