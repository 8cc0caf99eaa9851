/** The sandbox's own failures; failures of the code it runs are the app's to classify. */
import { Schema } from "effect"

/** The host could not prepare the sandbox (temp directory, runner bundle): a deployment problem. */
export class SandboxSetupError extends Schema.TaggedError<SandboxSetupError>()("SandboxSetupError", {
  message: Schema.String
}) {}

/**
 * A module did not reach `Loaded` in a fresh child: it threw, broke the contract, exited, ran out
 * of memory, or took too long. `problems` say which, in words fit for a validation report.
 */
export class SandboxLoadError extends Schema.TaggedError<SandboxLoadError>()("SandboxLoadError", {
  problems: Schema.Array(Schema.String),
  /** Where in the upload the module threw while loading (the first problem), when known. */
  at: Schema.optional(Schema.Struct({ line: Schema.Int, column: Schema.Int }))
}) {
  override get message() {
    return this.problems.join("; ")
  }
}
