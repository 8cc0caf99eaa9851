/** Which database failures a retry of a bar batch can fix, and how to name them in a message. */
import type { SqlError } from "@effect/sql"

/** SQLSTATE classes no retry can fix: data exception (22), integrity violation (23), syntax or undefined object (42). */
const PERMANENT = /^(22|23|42)/

const sqlState = (e: SqlError.SqlError): string | undefined => {
  const cause: unknown = e.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/**
 * Connection errors carry no SQLSTATE (or a Node code such as ECONNREFUSED) and server restarts,
 * deadlocks or lack of resources have other classes: all of these may pass, so they are retried.
 */
export const isPermanent = (e: SqlError.SqlError): boolean => PERMANENT.test(sqlState(e) ?? "")

export const describe = (e: SqlError.SqlError): string => {
  const cause: unknown = e.cause
  const reason = cause instanceof Error ? cause.message : e.message
  const state = sqlState(e)
  return state ? `${reason} (SQLSTATE ${state})` : reason
}

/** A plain INSERT met a row that is already stored. */
export const isUniqueViolation = (e: SqlError.SqlError): boolean => sqlState(e) === "23505"
