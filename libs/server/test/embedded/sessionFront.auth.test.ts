/**
 * The embedded database's front requires the password (SCRAM-SHA-256): a client that does not
 * prove it gets PostgreSQL's FATAL error and never a session, whichever way it tries.
 */
import { randomBytes } from "node:crypto"
import { PGlite } from "@electric-sql/pglite"
import Pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SessionFront from "../../src/node/embedded/SessionFront"
import {
  type BackendMessage,
  frame,
  query,
  RawClient,
  saslInitial,
  scramFinal,
  sqlState,
  startupPacket
} from "./rawClient"

const PASSWORD = randomBytes(32).toString("base64url")

let db: PGlite
let front: SessionFront.SessionFront
beforeAll(async () => {
  db = await PGlite.create()
  front = await SessionFront.start({ db, password: PASSWORD, port: 0 })
}, 90_000)
afterAll(async () => {
  await front?.stop()
  await db?.close()
})

const pgClient = (password?: string, user = "postgres") =>
  new Pg.Client({ host: "127.0.0.1", port: front.port, user, database: "postgres", password })

const tableExists = async (name: string) =>
  (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = $1", [name]))
    .rows[0]!.n > 0

/** Starts a handshake and returns the client with the server's SASL request consumed. */
const handshake = async (user = "postgres") => {
  const client = await RawClient.open(front.port)
  client.send(startupPacket({ user, database: "postgres" }))
  const request = await client.next("R")
  expect(request.body.subarray(4).toString()).toContain("SCRAM-SHA-256")
  return client
}

const scramAs = async (client: RawClient, password: string) => {
  const clientFirstBare = `n=*,r=${randomBytes(18).toString("base64")}`
  client.send(saslInitial(`n,,${clientFirstBare}`))
  const serverFirst = (await client.next("R")).body.subarray(4).toString()
  return { clientFirstBare, serverFirst, final: scramFinal(password, clientFirstBare, serverFirst) }
}

/** One way of trying to get in without the password; each ends with a statement it tries to run. */
const attempts: ReadonlyArray<{
  readonly name: string
  readonly codes: ReadonlyArray<string>
  readonly run: () => Promise<RawClient>
}> = [
  {
    name: "a query instead of the SASL response",
    codes: ["08P01", "28P01"],
    run: async () => {
      const c = await handshake()
      c.send(query("CREATE TABLE pwned_query ()"))
      return c
    }
  },
  {
    name: "a query before any startup packet",
    codes: ["08P01", "0A000"],
    run: async () => {
      const c = await RawClient.open(front.port)
      c.send(query("CREATE TABLE pwned_nostartup ()"))
      return c
    }
  },
  {
    name: "the password in clear text",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      c.send(frame("p", `${PASSWORD}\0`))
      c.send(query("CREATE TABLE pwned_cleartext ()"))
      return c
    }
  },
  {
    name: "SCRAM with channel binding the server never offered",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      c.send(saslInitial("p=tls-server-end-point,,n=*,r=abc", "SCRAM-SHA-256-PLUS"))
      return c
    }
  },
  {
    name: "a wrong password",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      const { final } = await scramAs(c, `${PASSWORD}x`)
      c.send(frame("p", final))
      c.send(query("CREATE TABLE pwned_wrong ()"))
      return c
    }
  },
  {
    name: "an empty password",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      const { final } = await scramAs(c, "")
      c.send(frame("p", final))
      return c
    }
  },
  {
    name: "a proof computed for a nonce of the client's choosing",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      const { clientFirstBare, serverFirst } = await scramAs(c, PASSWORD)
      const forged = serverFirst.replace(/^r=[^,]*/, "r=chosen-by-the-client")
      c.send(frame("p", scramFinal(PASSWORD, clientFirstBare, forged)))
      return c
    }
  },
  {
    name: "a client-final replayed from an earlier successful login",
    codes: ["28P01"],
    run: async () => {
      const first = await handshake()
      const recorded = await scramAs(first, PASSWORD)
      first.send(frame("p", recorded.final))
      expect((await first.untilReady()).map((m) => m.type)).toContain("Z")
      first.destroy()
      const c = await handshake()
      c.send(saslInitial(`n,,${recorded.clientFirstBare}`))
      await c.next("R")
      c.send(frame("p", recorded.final))
      c.send(query("CREATE TABLE pwned_replay ()"))
      return c
    }
  },
  {
    name: "a client-final without a client-first",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake()
      c.send(frame("p", "c=biws,r=abc,p=AAAA"))
      return c
    }
  },
  {
    name: "another role with the right password",
    codes: ["28P01"],
    run: async () => {
      const c = await handshake("intruder")
      const { final } = await scramAs(c, PASSWORD)
      c.send(frame("p", final))
      return c
    }
  },
  {
    name: "an oversized startup packet",
    codes: ["08P01"],
    run: async () => {
      const c = await RawClient.open(front.port)
      const huge = Buffer.alloc(1_000_000, 0x61)
      huge.writeInt32BE(huge.length, 0)
      huge.writeInt32BE(196608, 4)
      c.send(huge)
      return c
    }
  }
]

describe("the embedded database's front authenticates", () => {
  it("lets in a pg client with the password", async () => {
    const client = pgClient(PASSWORD)
    await client.connect()
    expect((await client.query("SELECT current_user AS u")).rows).toEqual([{ u: "postgres" }])
    await client.end()
  })

  it("refuses a pg client with a wrong password with PostgreSQL's error", async () => {
    const client = pgClient("not-the-password")
    const error = await client.connect().then(
      () => null,
      (e: Pg.DatabaseError) => e
    )
    expect(error?.code).toBe("28P01")
    expect(error?.severity).toBe("FATAL")
    expect(error?.message).toBe('password authentication failed for user "postgres"')
  })

  it("refuses a pg client without a password", async () => {
    const client = pgClient(undefined)
    await expect(client.connect()).rejects.toThrow(/password/i)
  })

  it.each(attempts)("refuses $name: FATAL, connection closed, nothing run", async ({ run, codes, name }) => {
    const client = await run()
    const messages: ReadonlyArray<BackendMessage> = await client.ended()
    const errors = messages.filter((m) => m.type === "E")
    expect(errors, name).toHaveLength(1)
    expect(errors[0]!.body.toString()).toContain("SFATAL")
    expect(codes).toContain(sqlState(errors[0]!))
    // Never a session: no AuthenticationOk, no ReadyForQuery, no results.
    expect(messages.map((m) => m.type).filter((t) => ["Z", "C", "D", "T"].includes(t))).toEqual([])
    expect(messages.some((m) => m.type === "R" && m.body.readInt32BE(0) === 0)).toBe(false)
  })

  it("ran none of the statements the refused clients sent", async () => {
    for (const table of [
      "pwned_query",
      "pwned_nostartup",
      "pwned_cleartext",
      "pwned_wrong",
      "pwned_replay"
    ]) {
      expect(await tableExists(table), table).toBe(false)
    }
  })

  it("refuses a database other than postgres", async () => {
    const client = new Pg.Client({
      host: "127.0.0.1",
      port: front.port,
      user: "postgres",
      database: "other",
      password: PASSWORD
    })
    await expect(client.connect()).rejects.toMatchObject({ code: "3D000" })
  })
})
