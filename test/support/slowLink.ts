/**
 * A loopback proxy that passes what a client sends on in small pieces, one per turn of the event
 * loop, as a busy network or another process would: a server then reads one message (or one
 * extended-protocol sequence) in several reads, with other connections' data in between.
 */
import { connect, createServer, type Socket } from "node:net"
import { setImmediate as nextTurn } from "node:timers/promises"

const PIECE = 8_192

export const slowLink = async (targetPort: number) => {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port: targetPort })
    sockets.add(client).add(upstream)
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("error", close).on("close", close)
    upstream.on("error", close).on("close", close)
    upstream.pipe(client)
    // In order: each chunk is passed on piece by piece before the next chunk starts.
    let sending = Promise.resolve()
    client.on("data", (chunk: Buffer) => {
      sending = sending.then(async () => {
        for (let at = 0; at < chunk.length; at += PIECE) {
          if (upstream.destroyed) return
          upstream.write(chunk.subarray(at, at + PIECE))
          await nextTurn()
        }
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
