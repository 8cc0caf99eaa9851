/**
 * Serves one PGlite instance to many client connections as if each had its own server session.
 *
 * PGlite is a single session, so the front lends it to one connection at a time: a connection
 * holds it from its first message until PGlite reports ReadyForQuery with status idle ('I') after
 * the connection's last Sync, simple Query or function call. Extended-protocol sequences and whole
 * transactions therefore never interleave with another connection's messages. When a connection
 * goes away, whatever it left behind (an unfinished extended sequence, an open transaction, named
 * statements, portals, settings) is cleared before the next connection gets the session; one that
 * holds the session while sending nothing for too long is cut, so it cannot stall everyone else.
 *
 * The front also does the startup handshake itself and requires the password (SCRAM-SHA-256).
 */
import { createServer, type Server, type Socket } from "node:net"
import { inspect } from "node:util"
import type { PGlite } from "@electric-sql/pglite"
import { SessionArbiter } from "./SessionArbiter"
import * as Scram from "./scram"
import * as Wire from "./wire"

/** Something worth a log line; the front itself does not log. */
export interface FrontEvent {
  readonly level: "info" | "warning" | "error"
  readonly message: string
  readonly connection: number
  readonly detail?: string
}

/** Starts a timer and returns a function that cancels it; tests pass one they fire by hand. */
export type Timer = (millis: number, onExpiry: () => void) => () => void

export interface SessionFrontOptions {
  readonly db: PGlite
  readonly password: string
  readonly host?: string
  /** 0 picks a free port. */
  readonly port: number
  readonly maxConnections?: number
  /** How long a connection may hold the session while sending nothing (idle in a transaction). */
  readonly idleHoldMillis?: number
  /** How long a client may take to authenticate. */
  readonly authMillis?: number
  readonly timer?: Timer
  readonly onEvent?: (event: FrontEvent) => void
}

export interface SessionFront {
  readonly port: number
  readonly stats: () => { readonly connections: number; readonly queued: number }
  /** Stops accepting, closes every connection and waits until the session is clean. */
  readonly stop: () => Promise<void>
}

const realTimer: Timer = (millis, onExpiry) => {
  const handle = setTimeout(onExpiry, millis)
  handle.unref()
  return () => clearTimeout(handle)
}

/**
 * `COPY … FROM STDIN` makes PGlite wait for input it can never receive (it runs one batch of
 * messages at a time) and takes the whole database down, so such a statement is replaced by one
 * that fails with a clear error in the same place: the client sees PostgreSQL's usual behaviour
 * for a failed statement (an aborted transaction, the rest of an extended sequence skipped).
 */
const COPY_FROM_STDIN = /\bcopy\b[\s\S]*\bfrom\s+stdin\b/i
const COPY_REFUSAL =
  "DO $quasar$ BEGIN RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = 'COPY FROM STDIN is not supported by the embedded database', HINT = 'insert the rows with INSERT, or use PostgreSQL (DATABASE_URL)'; END $quasar$"

const withoutCopyFromStdin = (frame: Wire.Frame & { kind: "message" }): Wire.Frame & { kind: "message" } => {
  if (frame.type === "Q") {
    const sql = frame.bytes.subarray(5).toString("utf8")
    return COPY_FROM_STDIN.test(sql) ? { ...frame, bytes: Wire.query(COPY_REFUSAL) } : frame
  }
  if (frame.type === "P") {
    const body = frame.bytes.subarray(5)
    const nameEnd = body.indexOf(0)
    const sqlEnd = body.indexOf(0, nameEnd + 1)
    if (nameEnd < 0 || sqlEnd < 0) return frame
    if (!COPY_FROM_STDIN.test(body.subarray(nameEnd + 1, sqlEnd).toString("utf8"))) return frame
    const replaced = Buffer.concat([
      body.subarray(0, nameEnd + 1),
      Buffer.from(`${COPY_REFUSAL}\0`),
      Buffer.from([0, 0])
    ])
    return { ...frame, bytes: Wire.message("P", replaced) }
  }
  return frame
}

/** Messages after which PGlite answers with ReadyForQuery. */
const ANSWERED_BY_READY = new Set(["S", "Q", "F"])

const DATABASE = "postgres"
const USER = "postgres"

interface Shared {
  readonly db: PGlite
  readonly arbiter: SessionArbiter<Connection>
  readonly verifier: Scram.ScramVerifier
  readonly parameterStatuses: Buffer
  readonly idleHoldMillis: number
  readonly authMillis: number
  readonly timer: Timer
  readonly emit: (event: FrontEvent) => void
  /** Why PGlite can no longer be used, once it has failed. */
  readonly broken: { reason: string | null }
}

type Phase = "startup" | "auth" | "ready" | "closed"

let nextConnectionId = 100_000

const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : inspect(e, { depth: 3 }))

class Connection {
  readonly id = nextConnectionId++
  private phase: Phase = "startup"
  private buffer: Buffer = Buffer.alloc(0)
  private readonly pending: Array<Wire.Frame & { kind: "message" }> = []
  private user = USER
  private scram: ReturnType<typeof Scram.exchange> | null = null
  private cancelTimer: (() => void) | null = null
  private running = false
  private holding = false
  private everHeld = false
  private departed = false
  /** ReadyForQuery messages PGlite still owes this connection. */
  private owed = 0
  private status = "I"
  private lastType = "S"
  private readonly scanner = new Wire.ReadyScanner((status) => {
    this.status = status
    this.owed--
  })
  /** Resolves once the connection has left and the session is clean again. */
  readonly gone: Promise<void>
  private markGone!: () => void

  constructor(
    private readonly socket: Socket,
    private readonly shared: Shared
  ) {
    this.gone = new Promise((resolve) => {
      this.markGone = resolve
    })
    socket.setNoDelay(true)
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("error", (e) => this.close(undefined, `socket error: ${e.message}`))
    socket.on("close", () => this.close())
    this.cancelTimer = shared.timer(shared.authMillis, () =>
      this.close({ severity: "FATAL", code: "08006", message: "canceling authentication due to timeout" })
    )
  }

  /** Ends the connection (with a last error for the client, if any) and clears its traces. */
  close(fatal?: Wire.ErrorFields, why?: string): void {
    if (this.phase === "closed") return
    this.phase = "closed"
    this.cancelTimer?.()
    this.cancelTimer = null
    if (fatal) {
      this.shared.emit({ level: "warning", message: fatal.message, connection: this.id, detail: why })
      if (this.socket.writable) {
        this.socket.end(Wire.errorResponse(fatal))
        // A peer that never closes its side does not keep the socket open.
        setTimeout(() => this.socket.destroy(), 2_000).unref()
      } else {
        this.socket.destroy()
      }
    } else {
      if (why) this.shared.emit({ level: "info", message: why, connection: this.id })
      this.socket.destroy()
    }
    this.pending.length = 0
    this.shared.arbiter.cancel(this)
    this.schedule()
  }

  /** The phase read afresh: it changes under awaits and callbacks. */
  private isClosed(): boolean {
    return this.phase === "closed"
  }

  private onData(chunk: Buffer): void {
    if (this.phase === "closed") return
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    try {
      for (;;) {
        const { frames, rest } = Wire.takeFrames(
          this.buffer,
          () => this.phase === "startup",
          () => (this.phase === "ready" ? Wire.MAX_MESSAGE_LENGTH : Wire.MAX_UNAUTHENTICATED_LENGTH)
        )
        this.buffer = rest
        if (frames.length === 0) break
        for (const frame of frames) {
          if (this.isClosed()) return
          if (frame.kind === "startup") this.onStartup(frame)
          else if (this.phase === "auth") this.onAuth(frame)
          else this.pending.push(withoutCopyFromStdin(frame))
        }
      }
    } catch (e) {
      if (!(e instanceof Wire.FramingError)) throw e
      this.close({ severity: "FATAL", code: "08P01", message: e.message })
      return
    }
    if (this.phase === "ready" && this.pending.length > 0) {
      this.cancelTimer?.()
      this.cancelTimer = null
      this.schedule()
    }
  }

  private onStartup(frame: Wire.Frame & { kind: "startup" }): void {
    if (frame.code === Wire.SSL_REQUEST || frame.code === Wire.GSSENC_REQUEST) {
      // Loopback only, no TLS: the client carries on in plain text (or gives up if it insists).
      this.socket.write("N")
      return
    }
    // PGlite has no backend to interrupt; the client's query simply runs to its end.
    if (frame.code === Wire.CANCEL_REQUEST) {
      this.close()
      return
    }
    if (frame.code !== Wire.PROTOCOL_3_0) {
      this.close({
        severity: "FATAL",
        code: "0A000",
        message: `unsupported frontend protocol ${frame.code >> 16}.${frame.code & 0xffff}: the embedded database speaks 3.0`
      })
      return
    }
    const parameters = Wire.startupParameters(frame.bytes)
    this.user = parameters.get("user") ?? ""
    const database = parameters.get("database") || this.user
    if (database !== DATABASE) {
      this.close({
        severity: "FATAL",
        code: "3D000",
        message: `database "${database}" does not exist`,
        hint: `the embedded database has one database, "${DATABASE}"`
      })
      return
    }
    this.phase = "auth"
    this.socket.write(Wire.authentication(Wire.AUTH_SASL, Buffer.from(`${Scram.MECHANISM}\0\0`)))
  }

  private refuse(reason: string): void {
    this.close(
      {
        severity: "FATAL",
        code: "28P01",
        message: `password authentication failed for user "${this.user}"`,
        hint: "connect with the password kept in the data directory (embedded-db.password)"
      },
      reason
    )
  }

  private onAuth(frame: Wire.Frame & { kind: "message" }): void {
    if (frame.type !== "p") {
      this.refuse(`expected a SASL response, got message type '${frame.type}'`)
      return
    }
    const body = frame.bytes.subarray(5)
    if (this.scram === null) {
      const nul = body.indexOf(0)
      const mechanism = nul < 0 ? "" : body.subarray(0, nul).toString("utf8")
      if (mechanism !== Scram.MECHANISM || body.length < nul + 5) {
        this.refuse(`the only authentication method is ${Scram.MECHANISM}`)
        return
      }
      const length = body.readInt32BE(nul + 1)
      const data = length < 0 ? "" : body.subarray(nul + 5, nul + 5 + length).toString("utf8")
      this.scram = Scram.exchange(this.shared.verifier)
      const step = this.scram.first(data)
      if (step._tag !== "Continue") {
        this.refuse(step._tag === "Refused" ? step.reason : "unexpected step")
        return
      }
      this.socket.write(Wire.authentication(Wire.AUTH_SASL_CONTINUE, Buffer.from(step.serverFirst)))
      return
    }
    const step = this.scram.final(body.toString("utf8"))
    if (step._tag !== "Done") {
      this.refuse(step._tag === "Refused" ? step.reason : "unexpected step")
      return
    }
    if (this.user !== USER) {
      this.refuse(`there is no role "${this.user}"`)
      return
    }
    this.cancelTimer?.()
    this.cancelTimer = null
    this.phase = "ready"
    this.socket.write(
      Buffer.concat([
        Wire.authentication(Wire.AUTH_SASL_FINAL, Buffer.from(step.serverFinal)),
        Wire.authentication(Wire.AUTH_OK),
        this.shared.parameterStatuses,
        Wire.backendKeyData(this.id, Math.floor(Math.random() * 0x7fffffff)),
        Wire.readyForQuery("I")
      ])
    )
  }

  private schedule(): void {
    if (this.running) return
    this.running = true
    void this.run()
      .catch((e: unknown) => {
        // PGlite does not recover from an exception in its main loop (it may spin on the next
        // call), so the front stops using it: every connection gets this error from now on.
        if (this.shared.broken.reason === null) {
          this.shared.broken.reason = describe(e)
          this.shared.emit({
            level: "error",
            message: "the embedded database failed; restart the process that hosts it",
            connection: this.id,
            detail: this.shared.broken.reason
          })
        }
        this.close({
          severity: "FATAL",
          code: "XX000",
          message: `the embedded database failed and needs a restart: ${this.shared.broken.reason.split("\n")[0]}`
        })
      })
      .finally(() => {
        this.running = false
        if (this.pending.length > 0 || (this.phase === "closed" && !this.departed)) this.schedule()
      })
  }

  private async run(): Promise<void> {
    const { arbiter } = this.shared
    for (;;) {
      if (this.isClosed()) return this.depart()
      if (this.pending.length === 0) {
        if (this.holding) this.armIdleHold()
        return
      }
      if (!this.holding) {
        if (!(await arbiter.acquire(this))) continue
        this.holding = true
        this.everHeld = true
        if (this.isClosed()) continue
      }
      await this.exec(this.takeBatch(), true)
      if (this.settled() && this.status === "I") {
        this.holding = false
        arbiter.release(this)
      }
    }
  }

  /** Everything pending up to and including the first message that PGlite answers with ReadyForQuery. */
  private takeBatch(): Buffer {
    const end = this.pending.findIndex((f) => ANSWERED_BY_READY.has(f.type))
    const frames = this.pending.splice(0, end < 0 ? this.pending.length : end + 1)
    const terminate = frames.findIndex((f) => f.type === "X")
    if (terminate >= 0) {
      frames.length = terminate
      this.close()
    }
    for (const f of frames) {
      if (ANSWERED_BY_READY.has(f.type)) this.owed++
      this.lastType = f.type
    }
    return Buffer.concat(frames.map((f) => f.bytes))
  }

  private settled(): boolean {
    return this.owed === 0 && ANSWERED_BY_READY.has(this.lastType)
  }

  private async exec(batch: Buffer, forward: boolean): Promise<void> {
    if (batch.length === 0) return
    if (this.shared.broken.reason !== null) throw new Error(this.shared.broken.reason)
    await this.shared.db.execProtocolRawStream(new Uint8Array(batch), {
      onRawData: (data) => {
        this.scanner.push(data)
        // PGlite reuses the memory behind `data`; the socket writes later.
        if (forward && this.phase !== "closed" && this.socket.writable) this.socket.write(Buffer.from(data))
      }
    })
  }

  private armIdleHold(): void {
    this.cancelTimer?.()
    this.cancelTimer = this.shared.timer(this.shared.idleHoldMillis, () => {
      if (!this.holding || this.pending.length > 0) return
      this.close(
        {
          severity: "FATAL",
          code: "25P03",
          message: `terminating connection: it held the embedded database for ${this.shared.idleHoldMillis} ms without sending anything (idle in a transaction); its transaction is rolled back`,
          hint: "finish transactions promptly: the embedded database serves one connection at a time"
        },
        "idle while holding the session"
      )
    })
  }

  /** Leaves the session as a fresh connection would find it, then hands it on. */
  private async depart(): Promise<void> {
    if (this.departed) return
    this.departed = true
    try {
      if (!this.everHeld || this.shared.broken.reason !== null) {
        if (this.holding) this.shared.arbiter.release(this)
        this.holding = false
        return
      }
      const { arbiter, db } = this.shared
      if (!this.holding) {
        await arbiter.acquire(this)
        this.holding = true
      }
      try {
        if (!this.settled()) {
          // Ends a COPY in progress (ignored otherwise) and an unfinished extended sequence.
          this.owed++
          this.lastType = "S"
          await this.exec(
            Buffer.concat([Wire.message("f", Buffer.from("client went away\0")), Wire.SYNC]),
            false
          )
        }
        const wasInTransaction = db.isInTransaction() || this.status !== "I"
        const reset = wasInTransaction ? "ROLLBACK; DISCARD ALL" : "DISCARD ALL"
        this.owed++
        await this.exec(Wire.query(reset), false)
        if (wasInTransaction) {
          this.shared.emit({
            level: "info",
            message: "rolled back the transaction of a departed connection",
            connection: this.id
          })
        }
        if (db.isInTransaction()) {
          this.shared.emit({
            level: "error",
            message: "the session is still in a transaction after a reset",
            connection: this.id
          })
        }
      } finally {
        this.holding = false
        arbiter.release(this)
      }
    } finally {
      this.markGone()
    }
  }
}

/** Opens the front on `host`:`port` in front of `db` (which must be ready). */
export const start = async (options: SessionFrontOptions): Promise<SessionFront> => {
  const { db } = options
  await db.waitReady
  // The settings a new session reports, as PGlite reports them, for every client's handshake.
  const startup = Buffer.from(`user\0${USER}\0database\0${DATABASE}\0\0`)
  const packet = Buffer.alloc(8 + startup.length)
  packet.writeInt32BE(packet.length, 0)
  packet.writeInt32BE(Wire.PROTOCOL_3_0, 4)
  startup.copy(packet, 8)
  const parameterStatuses = Wire.parameterStatuses(await db.execProtocolRaw(new Uint8Array(packet)))

  const shared: Shared = {
    db,
    arbiter: new SessionArbiter<Connection>(),
    verifier: Scram.verifier(options.password),
    parameterStatuses,
    idleHoldMillis: options.idleHoldMillis ?? 30_000,
    authMillis: options.authMillis ?? 30_000,
    timer: options.timer ?? realTimer,
    emit: options.onEvent ?? (() => {}),
    broken: { reason: null }
  }
  const maxConnections = options.maxConnections ?? 100
  const connections = new Set<Connection>()

  const server: Server = createServer((socket) => {
    if (connections.size >= maxConnections) {
      socket.end(
        Wire.errorResponse({ severity: "FATAL", code: "53300", message: "sorry, too many clients already" })
      )
      return
    }
    const connection = new Connection(socket, shared)
    connections.add(connection)
    void connection.gone.then(() => connections.delete(connection))
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : options.port

  return {
    port,
    stats: () => ({ connections: connections.size, queued: shared.arbiter.queued }),
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      const all = [...connections]
      for (const c of all) c.close()
      await Promise.all(all.map((c) => c.gone))
      await closed
    }
  }
}
