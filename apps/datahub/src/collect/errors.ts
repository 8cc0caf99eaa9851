import { Schema } from "effect"

/**
 * The database (or the writer in front of it) did not take a page or a progress update. Nothing
 * is lost: progress is recorded only after a commit, so collection resumes from the last
 * committed page once the database answers again.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  message: Schema.String
}) {}

const describe = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string"
    ? cause.message
    : String(cause)

export const storeUnavailable = (cause: unknown) =>
  new StoreUnavailable({
    message: `the database is unreachable (${describe(cause)}); collection resumes from the last committed page when it is back`
  })
