/**
 * A loopback TCP proxy a test can cut and restore, to play "the database went away" (or any
 * upstream) without touching the real server.
 */
import { connect, createServer, type Server, type Socket } from "node:net"
import { Effect } from "effect"

export interface TcpProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones until `restore`. */
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
}

export const make = (targetHost: string, targetPort: number) =>
  Effect.acquireRelease(
    Effect.async<{ server: Server; proxy: TcpProxy }>((resume) => {
      const sockets = new Set<Socket>()
      let up = true
      const server = createServer((client) => {
        if (!up) return client.destroy()
        const upstream = connect({ host: targetHost, port: targetPort })
        sockets.add(client).add(upstream)
        const close = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        client.on("error", close).on("close", close)
        upstream.on("error", close).on("close", close)
        client.pipe(upstream).pipe(client)
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address ? address.port : 0
        resume(
          Effect.succeed({
            server,
            proxy: {
              port,
              cut: Effect.sync(() => {
                up = false
                for (const s of sockets) s.destroy()
                sockets.clear()
              }),
              restore: Effect.sync(() => {
                up = true
              })
            }
          })
        )
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ proxy }) => proxy))
