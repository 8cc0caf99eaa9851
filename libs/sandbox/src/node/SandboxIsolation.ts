/**
 * How sandbox children are kept apart from the machine, found out once at start. Where Linux
 * allows it (root, or unprivileged user namespaces), each child runs in an empty network
 * namespace (no interface but a down loopback: no connection of its own can leave it) and its
 * own PID namespace (it cannot see, signal or renice any process of the host), under `unshare`.
 * Elsewhere the child relies on Node's permission model alone, which also refuses the network
 * because the host does not pass `--allow-net`.
 */
import { execFile } from "node:child_process"
import { access, constants } from "node:fs/promises"
import { delimiter, join } from "node:path"
import { Effect } from "effect"

export interface SandboxIsolation {
  readonly network: "namespace" | "permission-model-only"
  readonly pid: "namespace" | "shared"
  /** The command that precedes `node …` for each child; empty without namespaces. */
  readonly wrapper: ReadonlyArray<string>
  /** Why namespaces are unavailable, when they are. */
  readonly problem?: string | undefined
}

const UNSHARE_FLAGS = ["--net", "--pid", "--fork", "--kill-child"]
/** Without root, an unprivileged user namespace maps the caller to root inside it. */
const USER_FLAGS = ["--user", "--map-root-user"]

const findUnshare = async (): Promise<string | undefined> => {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
  for (const dir of dirs.filter((d) => d !== "")) {
    const candidate = join(dir, "unshare")
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false
      )
    )
      return candidate
  }
  return undefined
}

const works = (command: string, args: ReadonlyArray<string>): Promise<string | undefined> =>
  new Promise((resolve) =>
    execFile(command, [...args, "--", "true"], { timeout: 5_000 }, (error, _stdout, stderr) =>
      resolve(error ? (stderr.trim() || error.message).slice(0, 300) : undefined)
    )
  )

const degraded = (problem: string): SandboxIsolation => ({
  network: "permission-model-only",
  pid: "shared",
  wrapper: [],
  problem
})

/** Tries `unshare` as the children will use it; never fails, says what it found. */
export const detectIsolation: Effect.Effect<SandboxIsolation> = Effect.promise(async () => {
  if (process.platform !== "linux")
    return degraded(`namespaces are a Linux feature (this is ${process.platform})`)
  const unshare = await findUnshare()
  if (!unshare) return degraded("the unshare command (util-linux) is not installed")
  const attempts =
    process.getuid?.() === 0
      ? [UNSHARE_FLAGS, [...UNSHARE_FLAGS, ...USER_FLAGS]]
      : [[...UNSHARE_FLAGS, ...USER_FLAGS]]
  let problem = ""
  for (const flags of attempts) {
    const failure = await works(unshare, flags)
    if (failure === undefined)
      return { network: "namespace", pid: "namespace", wrapper: [unshare, ...flags, "--"] }
    problem = failure
  }
  return degraded(`unshare failed: ${problem}`)
})

/** The start-up line: what holds, or what is missing and what to do. */
export const logIsolation = (isolation: SandboxIsolation): Effect.Effect<void> =>
  isolation.network === "namespace"
    ? Effect.logInfo("sandbox children run in their own network and PID namespaces")
    : Effect.logWarning(
        `sandbox children cannot get their own network and PID namespaces (${isolation.problem}): Node's permission model alone keeps sandboxed code off the network, and it can see other processes; run the service as root or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)`
      )
