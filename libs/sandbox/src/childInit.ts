/**
 * The first message the host sends a child, before the child loads uploaded code: the token that
 * proves the runner's `Loaded`/`LoadFailed` verdict. It travels over the IPC channel rather than
 * the command line, which the child can read back (`/proc/self/cmdline`, `process.report`), and
 * the runner keeps it in a closure. The host sends it once the child is placed in its resource
 * limits (see SandboxQuota), so no uploaded code runs outside them.
 */
export interface ChildInit {
  readonly _tag: "Init"
  readonly token: string
}

export const isChildInit = (message: unknown): message is ChildInit =>
  typeof message === "object" &&
  message !== null &&
  (message as { _tag?: unknown })._tag === "Init" &&
  typeof (message as { token?: unknown }).token === "string"
