import { Schema } from "effect"

/**
 * The database did not take a progress update (or the writer could not reach it). Nothing is
 * lost: progress is recorded only after a commit, so collection resumes from the last committed
 * page once the database answers again.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  message: Schema.String
}) {}

/** The database refused a page for good (e.g. a value out of range); the run fails with the reason. */
export class PageRefused extends Schema.TaggedError<PageRefused>()("PageRefused", {
  message: Schema.String
}) {}

/**
 * A write committed but the database does not hold some of its bars. The run stops at the first
 * missing bar (everything before it is confirmed and counted) and the next run writes from there:
 * retryable, unlike `PageRefused`.
 */
export class BarsNotStored extends Schema.TaggedError<BarsNotStored>()("BarsNotStored", {
  message: Schema.String,
  missing: Schema.Number
}) {}

const describe = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string"
    ? cause.message
    : String(cause)

export const storeUnavailable = (cause: unknown) =>
  new StoreUnavailable({
    message: `the database is unreachable (${describe(cause)}); collection resumes from the last committed page when it is back`
  })
