import { Schema } from "effect"

/** Anything that stops the launcher; `message` is printed as is, so it names what went wrong. */
export class LauncherError extends Schema.TaggedError<LauncherError>()("LauncherError", {
  message: Schema.String
}) {}
