/**
 * A PostgreSQL client at the level of single protocol messages, so a test can stop half-way
 * through an extended-protocol sequence or a handshake, or send what no well-behaved driver would.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto"
import { connect, type Socket } from "node:net"

export interface BackendMessage {
  readonly type: string
  readonly body: Buffer
}

export const frame = (type: string, body: Buffer | string = Buffer.alloc(0)): Buffer => {
  const data = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const out = Buffer.alloc(5 + data.length)
  out.write(type, 0, "latin1")
  out.writeInt32BE(4 + data.length, 1)
  data.copy(out, 5)
  return out
}

const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff])
const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

export const startupPacket = (parameters: Record<string, string>) => {
  const body = Buffer.from(`${Object.entries(parameters).flat().join("\0")}\0\0`)
  return Buffer.concat([int32(8 + body.length), int32(196608), body])
}

/** Parse (unnamed) of `sql`, Bind of text `values`, Execute, in that order. */
export const parse = (sql: string, name = "") =>
  frame("P", Buffer.concat([Buffer.from(`${name}\0${sql}\0`), int16(0)]))
export const bind = (values: ReadonlyArray<string>, statement = "") =>
  frame(
    "B",
    Buffer.concat([
      Buffer.from(`\0${statement}\0`),
      int16(0),
      int16(values.length),
      ...values.flatMap((v) => [int32(Buffer.byteLength(v)), Buffer.from(v)]),
      int16(0)
    ])
  )
export const execute = () => frame("E", Buffer.concat([Buffer.from("\0"), int32(0)]))
export const sync = () => frame("S")
export const query = (sql: string) => frame("Q", `${sql}\0`)

/** The SQLSTATE of an ErrorResponse body. */
export const sqlState = (m: BackendMessage) =>
  m.body
    .toString("utf8")
    .split("\0")
    .find((f) => f.startsWith("C"))
    ?.slice(1)

/** The first DataRow's first column, as text. */
export const firstValue = (messages: ReadonlyArray<BackendMessage>) => {
  const row = messages.find((m) => m.type === "D")
  if (!row) return undefined
  const length = row.body.readInt32BE(2)
  return length < 0 ? null : row.body.subarray(6, 6 + length).toString("utf8")
}

export class RawClient {
  private buffer = Buffer.alloc(0)
  private readonly received: Array<BackendMessage> = []
  private waiter: (() => void) | null = null
  closed = false

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      while (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1)
        if (this.buffer.length < length + 1) break
        this.received.push({
          type: String.fromCharCode(this.buffer[0]!),
          body: Buffer.from(this.buffer.subarray(5, length + 1))
        })
        this.buffer = this.buffer.subarray(length + 1)
      }
      this.waiter?.()
    })
    socket.on("close", () => {
      this.closed = true
      this.waiter?.()
    })
    socket.on("error", () => {})
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port })
      socket.once("connect", () => resolve(new RawClient(socket)))
      socket.once("error", reject)
    })
  }

  /** Opens a connection and authenticates with SCRAM-SHA-256. */
  static async login(port: number, password: string, user = "postgres"): Promise<RawClient> {
    const client = await RawClient.open(port)
    client.send(startupPacket({ user, database: "postgres" }))
    await client.next("R")
    const clientFirstBare = `n=*,r=${randomBytes(18).toString("base64")}`
    client.send(saslInitial(`n,,${clientFirstBare}`))
    const serverFirst = (await client.next("R")).body.subarray(4).toString("utf8")
    client.send(frame("p", scramFinal(password, clientFirstBare, serverFirst)))
    const end = await client.untilReady()
    const error = end.find((m) => m.type === "E")
    if (error) throw new Error(`login refused: ${sqlState(error)}`)
    return client
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** Waits for the next message (of `type`, skipping others if given) or the end of the connection. */
  async next(type?: string, timeoutMs = 20_000): Promise<BackendMessage> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = type === undefined ? 0 : this.received.findIndex((m) => m.type === type)
      if (i >= 0 && this.received.length > i) return this.received.splice(0, i + 1)[i]!
      if (this.closed) throw new Error(`connection closed before a '${type ?? "any"}' message`)
      if (Date.now() > deadline) throw new Error(`no '${type ?? "any"}' message within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        this.waiter = resolve
        setTimeout(resolve, 50)
      })
    }
  }

  /** Everything up to and including the next ReadyForQuery (or the connection's end). */
  async untilReady(timeoutMs = 20_000): Promise<ReadonlyArray<BackendMessage>> {
    const out: Array<BackendMessage> = []
    for (;;) {
      try {
        const m = await this.next(undefined, timeoutMs)
        out.push(m)
        if (m.type === "Z") return out
      } catch (e) {
        if (this.closed) return out
        throw e
      }
    }
  }

  /** Messages received so far, without waiting. */
  drain(): ReadonlyArray<BackendMessage> {
    return this.received.splice(0)
  }

  /** Resolves once the server has closed the connection. */
  async ended(timeoutMs = 20_000): Promise<ReadonlyArray<BackendMessage>> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the server kept the connection open")
      await new Promise<void>((resolve) => {
        this.waiter = resolve
        setTimeout(resolve, 50)
      })
    }
    return this.drain()
  }

  destroy(): void {
    this.socket.destroy()
  }
}

export const saslInitial = (clientFirst: string, mechanism = "SCRAM-SHA-256") =>
  frame(
    "p",
    Buffer.concat([
      Buffer.from(`${mechanism}\0`),
      int32(Buffer.byteLength(clientFirst)),
      Buffer.from(clientFirst)
    ])
  )

/** The client-final message for `password`, as a SCRAM-SHA-256 client computes it. */
export const scramFinal = (password: string, clientFirstBare: string, serverFirst: string) => {
  const attrs = new Map(serverFirst.split(",").map((p) => [p[0]!, p.slice(2)] as const))
  const salted = pbkdf2Sync(
    password,
    Buffer.from(attrs.get("s")!, "base64"),
    Number(attrs.get("i")),
    32,
    "sha256"
  )
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const withoutProof = `c=biws,r=${attrs.get("r")}`
  const signature = createHmac("sha256", storedKey)
    .update(`${clientFirstBare},${serverFirst},${withoutProof}`)
    .digest()
  const proof = Buffer.alloc(clientKey.length)
  for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!
  return `${withoutProof},p=${proof.toString("base64")}`
}
