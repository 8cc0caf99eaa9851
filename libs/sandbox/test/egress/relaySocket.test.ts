/**
 * The host's end of a child's WebSockets never throws, whatever the child asks for: a close code
 * a client may not send, a reason too long for a close frame, or its sandbox stopping while a
 * socket is open (the host process would die of the throw). The server sees each socket closed.
 */
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import type { RelayReply } from "../../src/egress/relayProtocol"
import { makeEgress } from "../../src/node/egress/Egress"
import { makeSocketRelay } from "../../src/node/egress/relaySocket"

const servers: Array<WebSocketServer> = []
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((done) => server.close(done))
})

/** A WebSocket server on loopback that records the close code of each connection. */
const startServer = async () => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  servers.push(server)
  await new Promise((done) => server.once("listening", done))
  const codes: Array<number> = []
  server.on("connection", (ws) => ws.on("close", (code) => codes.push(code)))
  return { port: (server.address() as AddressInfo).port, codes }
}

const until = async (what: string, test: () => boolean) => {
  for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 25))
  if (!test()) throw new Error(`timed out waiting for ${what}`)
}

const relayTo = (port: number) => {
  const replies: Array<RelayReply> = []
  const relay = makeSocketRelay({
    egress: makeEgress({ allow: [{ host: "127.0.0.1", port }], reserved: [] }),
    send: (reply) => replies.push(reply),
    denied: () => undefined
  })
  const opened = (sock: number) => replies.some((r) => r._tag === "SocketOpened" && r.sock === sock)
  return { relay, replies, opened }
}

describe("the WebSocket relay's closes", () => {
  it("a close code or reason a client may not send closes the socket plainly, without a throw", async () => {
    const { port, codes } = await startServer()
    const { relay, opened } = relayTo(port)
    for (const sock of [1, 2, 3]) relay.handle({ _tag: "SocketOpen", sock, url: `ws://127.0.0.1:${port}/` })
    await until("three sockets open", () => [1, 2, 3].every(opened))

    expect(() =>
      relay.handle({ _tag: "SocketClose", sock: 1, code: 1001, reason: "going away" })
    ).not.toThrow()
    expect(() =>
      relay.handle({ _tag: "SocketClose", sock: 2, code: 4000, reason: "x".repeat(500) })
    ).not.toThrow()
    expect(() => relay.handle({ _tag: "SocketClose", sock: 3, code: 3001, reason: "done" })).not.toThrow()
    await until("three closes at the server", () => codes.length === 3)
    // 1001 is not a client's to send: a normal close; a long reason: a plain close (no status).
    expect([...codes].sort()).toEqual([1000, 1005, 3001])
  })

  it("a sandbox stopping with sockets open closes them all, without a throw", async () => {
    const { port, codes } = await startServer()
    const { relay, opened } = relayTo(port)
    for (const sock of [1, 2]) relay.handle({ _tag: "SocketOpen", sock, url: `ws://127.0.0.1:${port}/` })
    await until("two sockets open", () => [1, 2].every(opened))

    expect(() => relay.close()).not.toThrow()
    await until("two closes at the server", () => codes.length === 2)
    expect(codes).toEqual([1000, 1000])
  })
})
