/**
 * `ctx.log` inside a runner: each line goes to the host as a `Log` message, naming the call whose
 * context wrote it (the host logs it in that call's context), or none for lines outside calls.
 */
import type { Logger } from "@quasar/providers/sdk"
import type { Log } from "../../protocol"

/** Fields as the IPC channel can carry them: sandboxed code may log anything, cycles included. */
const plainFields = (fields: unknown): Record<string, unknown> | undefined => {
  try {
    return fields === undefined ? undefined : JSON.parse(JSON.stringify(fields))
  } catch {
    return { fields: "(not serialisable)" }
  }
}

/** The logger of call `call` (or of none), posting its lines with `post`. */
export const makeChildLogger =
  (post: (message: Log) => void) =>
  (call?: number): Logger => {
    const at = (level: Log["level"]) => (message: string, fields?: Readonly<Record<string, unknown>>) =>
      post({
        _tag: "Log",
        level,
        message: String(message),
        fields: plainFields(fields),
        ...(call === undefined ? {} : { call })
      })
    return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }
  }
