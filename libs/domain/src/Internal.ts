/**
 * Service-to-service routes: every service serves them under `INTERNAL_PREFIX`, in groups of
 * their own guarded by `ServiceAuth`. Nginx and the `npm start` proxy never route that prefix
 * (they answer 404), so only the services, on their own network, reach them.
 */

export const INTERNAL_PREFIX = "/internal"

/** The OpenAPI extension that marks an operation as not part of the public API. */
export const INTERNAL_EXTENSION = "x-internal"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * For an API's `OpenApi.Transform` annotation: marks every operation under `INTERNAL_PREFIX`
 * with `x-internal: true`, the extension documentation tools use to hide or flag them.
 */
export const markInternalOperations = (spec: Record<string, unknown>): Record<string, unknown> => {
  const paths = spec.paths
  if (!isRecord(paths)) return spec
  const marked: Record<string, unknown> = {}
  for (const [path, operations] of Object.entries(paths)) {
    marked[path] =
      path.startsWith(`${INTERNAL_PREFIX}/`) && isRecord(operations)
        ? Object.fromEntries(
            Object.entries(operations).map(([method, op]) => [
              method,
              isRecord(op) ? { ...op, [INTERNAL_EXTENSION]: true } : op
            ])
          )
        : operations
  }
  return { ...spec, paths: marked }
}
