/**
 * A TCP port for a child process to listen on later. It is chosen *below* the kernel's
 * ephemeral range: a port the OS hands out for `listen(0)` is also what it hands out as the
 * local end of outgoing connections (pg pools, HTTP clients), so one of those could take it
 * between the choice and the child's `listen` and the child dies with EADDRINUSE. Below that
 * range only other listeners compete, and each candidate is checked by binding to it.
 */
import { readFileSync } from "node:fs"
import { createServer } from "node:net"

const ephemeralStart = (): number => {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]
    )
    return Number.isInteger(first) && first > 12_000 ? first : 32_768
  } catch {
    return 32_768
  }
}

const LOWEST = 10_000
const handedOut = new Set<number>()

const canListen = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })

/** A free port outside the ephemeral range, never the same one twice in this process. */
export const freePort = async (host = "127.0.0.1"): Promise<number> => {
  const span = ephemeralStart() - LOWEST
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * span)
    if (handedOut.has(port)) continue
    if (await canListen(port, host)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error(`no free port between ${LOWEST} and ${LOWEST + span} after 200 tries`)
}
