/**
 * What the runner takes away from the child's process before uploaded code exists. Node's
 * permission model covers files, processes, workers, addons and the inspector; it does not
 * cover these, each of which reaches past the sandbox:
 * - `v8.setFlagsFromString` turns on V8 flags such as `--allow-natives-syntax` (V8's unsafe
 *   internals); the heap-snapshot and `queryObjects` functions read every string and object in
 *   the heap, the runner's own included.
 * - `os.setPriority` renices any process of the same user, the host included.
 * - `process.report.getReport()` prints the command line, environment and more.
 * - `process._send` is what `process.send` calls: replaced, it would see (and could rewrite)
 *   the runner's own messages, verdict included.
 * Each replaced function throws (code `ERR_SANDBOX_DENIED`) and reports the attempt to `onDenied`.
 */
import { syncBuiltinESMExports } from "node:module"

export const DENIED_V8 = [
  "setFlagsFromString",
  "getHeapSnapshot",
  "writeHeapSnapshot",
  "setHeapSnapshotNearHeapLimit",
  "queryObjects"
] as const

/** Thrown where uploaded code reaches for something the sandbox took away. */
const denial = (what: string): Error =>
  Object.assign(new Error(`${what} is not available in the sandbox`), {
    code: "ERR_SANDBOX_DENIED"
  })

const lock = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, writable: false, enumerable: true, configurable: false })

const deny = (target: object, key: string, what: string, onDenied: (what: string) => void) =>
  lock(target, key, () => {
    onDenied(what)
    throw denial(what)
  })

export const hardenProcess = (onDenied: (what: string) => void): void => {
  const v8 = process.getBuiltinModule("node:v8") as unknown as Record<string, unknown>
  for (const key of DENIED_V8) if (key in v8) deny(v8, key, `v8.${key}`, onDenied)
  const os = process.getBuiltinModule("node:os") as unknown as Record<string, unknown>
  deny(os, "setPriority", "os.setPriority", onDenied)
  // `import { setFlagsFromString } from "node:v8"` reads the ES module's own bindings, which
  // are copies: this updates them from the patched objects.
  syncBuiltinESMExports()

  // The permission model does not cover signals: without this uploaded code could kill the host
  // (`process.kill(process.ppid)`), since both run as the same user.
  for (const key of ["kill", "_kill"]) deny(process, key, "process.kill", onDenied)
  // Refused by the permission model too, but silently if uploaded code catches the error.
  for (const key of ["binding", "_linkedBinding", "dlopen"]) deny(process, key, `process.${key}`, onDenied)
  Object.defineProperty(process, "report", {
    get: () => undefined,
    set: () => onDenied("process.report"),
    enumerable: false,
    configurable: false
  })
  // Kept as they are, but fixed: nobody can wrap them to read or rewrite what the runner sends.
  for (const key of ["send", "_send"]) {
    const original = (process as unknown as Record<string, unknown>)[key]
    if (typeof original === "function") lock(process, key, original)
  }
}
