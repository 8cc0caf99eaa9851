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
  /**
   * The connections open now stop forwarding without closing (no FIN, no RST: what a NAT or a
   * firewall that forgot the flow does); new connections work.
   */
  readonly stall: Effect.Effect<void>
  /**
   * A network partition: the connections open now stall, and new ones are accepted but never
   * reach the upstream, until `restore`.
   */
  readonly partition: Effect.Effect<void>
}

export const make = (targetHost: string, targetPort: number) =>
  Effect.acquireRelease(
    Effect.async<{ server: Server; sockets: Set<Socket>; proxy: TcpProxy }>((resume) => {
      const sockets = new Set<Socket>()
      const pairs = new Set<readonly [Socket, Socket]>()
      let up = true
      let partitioned = false
      /** Read and drop: the peer's writes succeed, nothing ever arrives. */
      const silence = (socket: Socket) => {
        socket.removeAllListeners("data").on("data", () => undefined)
      }
      const stallAll = () => {
        for (const [client, upstream] of pairs) {
          client.unpipe(upstream)
          upstream.unpipe(client)
          silence(client)
          silence(upstream)
        }
        pairs.clear()
      }
      const server = createServer((client) => {
        if (!up) return client.destroy()
        if (partitioned) {
          sockets.add(client)
          client.on("error", () => sockets.delete(client)).on("close", () => sockets.delete(client))
          return silence(client)
        }
        const upstream = connect({ host: targetHost, port: targetPort })
        const pair = [client, upstream] as const
        sockets.add(client).add(upstream)
        pairs.add(pair)
        const close = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
          pairs.delete(pair)
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
            sockets,
            proxy: {
              port,
              cut: Effect.sync(() => {
                up = false
                for (const s of sockets) s.destroy()
                sockets.clear()
                pairs.clear()
              }),
              restore: Effect.sync(() => {
                up = true
                partitioned = false
              }),
              stall: Effect.sync(stallAll),
              partition: Effect.sync(() => {
                partitioned = true
                stallAll()
              })
            }
          })
        )
      })
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        // Stalled connections stay open until their peer closes them; they must not hold the
        // test's shutdown.
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ proxy }) => proxy))

/** A proxy in front of the database at `databaseUrl`, and the same URL through it. */
export const inFrontOf = (databaseUrl: string) =>
  Effect.gen(function* () {
    const direct = new URL(databaseUrl)
    const proxy = yield* make(direct.hostname, Number(direct.port || 5432))
    const url = new URL(direct)
    url.hostname = "127.0.0.1"
    url.port = String(proxy.port)
    return { proxy, url: url.toString() }
  })
