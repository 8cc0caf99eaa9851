/**
 * The first steps of every runner, in the order the sandbox depends on: the IPC channel is
 * captured (or the child exits 2), the process is hardened (denials reported as `Log` lines), the
 * host's token is awaited before any uploaded code is imported, and the child ends when its host
 * goes away. An interrupt is the host's to handle: it stops its children itself, so a Ctrl-C that
 * reaches the child is ignored.
 */
import { isChildInit } from "../../childInit"
import type { Log } from "../../protocol"
import { hardenProcess } from "./childHardening"

export interface RunnerStart<M> {
  /** Sends a message to the host; false when it cannot be sent (a value that cannot be cloned). */
  readonly post: (message: M | Log) => boolean
  /** Reports a denied operation to the host's log, even if uploaded code catches the error. */
  readonly denied: (what: string) => boolean
  /** The token proving this runner's verdict, kept in the runner's module scope only. */
  readonly token: string
}

export const startRunner = async <M>(runner: string): Promise<RunnerStart<M>> => {
  const ipcSend = process.send?.bind(process)
  if (!ipcSend) {
    console.error(`the ${runner} must be started with an IPC channel`)
    process.exit(2)
  }
  const post = (message: M | Log): boolean => {
    try {
      // A value that cannot be structured-cloned throws here, synchronously.
      ipcSend(message)
      return true
    } catch {
      return false
    }
  }
  const denied = (what: string) =>
    post({ _tag: "Log", level: "warn", message: "the sandbox denied an operation", fields: { denied: what } })
  hardenProcess(denied)
  const token = await new Promise<string>((resolve) =>
    process.once("message", (message) => resolve(isChildInit(message) ? message.token : ""))
  )
  process.on("disconnect", () => process.exit(0))
  process.on("SIGINT", () => undefined)
  return { post, denied, token }
}
