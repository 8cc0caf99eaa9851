/**
 * The dispatcher the relays connect through: a name is resolved once per connection, the
 * connection goes to the address that was checked (a resolver that changes its answer cannot
 * move it), and every hop of a redirect is checked again.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { fetch } from "undici"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deniedReason, makeEgress } from "../../src/node/egress/Egress"
import type { ResolvedAddress, Resolver } from "../../src/node/egress/pinnedConnector"

let server: Server
let port = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/to-metadata") {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" })
      return res.end()
    }
    if (req.url === "/to-self") {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/` })
      return res.end()
    }
    res.end(`OK ${req.headers.host}`)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** A resolver answering from a script, one answer per call, recording the names asked. */
const scripted = (answers: ReadonlyArray<ReadonlyArray<string>>) => {
  const asked: Array<string> = []
  const resolve: Resolver = async (host) => {
    const answer = answers[Math.min(asked.length, answers.length - 1)] ?? []
    asked.push(host)
    return answer.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }))
  }
  return { asked, resolve }
}

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error("expected a failure")
}

describe("pinned connections", () => {
  it("connect to the checked address even when the name resolves elsewhere afterwards (rebinding)", async () => {
    const dns = scripted([["127.0.0.1"], ["10.255.255.1"]])
    const egress = makeEgress({ allow: [{ host: "127.0.0.1", port }], reserved: [] }, dns.resolve)
    const response = await fetch(`http://rebind.test:${port}/`, { dispatcher: egress.dispatcher })
    expect(await response.text()).toBe(`OK rebind.test:${port}`)
    expect(dns.asked).toEqual(["rebind.test"])
  })

  it("refuse a name that resolves to a private address, with the policy's reason", async () => {
    const dns = scripted([["127.0.0.1"]])
    const egress = makeEgress({ allow: [], reserved: [] }, dns.resolve)
    const error = await failure(fetch(`http://sneaky.test:${port}/`, { dispatcher: egress.dispatcher }))
    expect(deniedReason(error)).toContain("sneaky.test (127.0.0.1) is loopback")
  })

  it("skip refused addresses of a name and use an allowed one", async () => {
    const dns = scripted([["10.0.0.1", "169.254.169.254", "127.0.0.1"]])
    const egress = makeEgress({ allow: [{ host: "127.0.0.1", port }], reserved: [] }, dns.resolve)
    const response = await fetch(`http://multi.test:${port}/`, { dispatcher: egress.dispatcher })
    expect(response.status).toBe(200)
  })

  it("check each redirect hop: a redirect to the metadata address is refused", async () => {
    const egress = makeEgress({ allow: [{ host: "127.0.0.1", port }], reserved: [] })
    const error = await failure(
      fetch(`http://127.0.0.1:${port}/to-metadata`, { dispatcher: egress.dispatcher })
    )
    expect(deniedReason(error)).toContain("169.254.169.254 is link-local")
    const followed = await fetch(`http://127.0.0.1:${port}/to-self`, { dispatcher: egress.dispatcher })
    expect(await followed.text()).toBe(`OK 127.0.0.1:${port}`)
  })

  it.each([
    "http://2130706433:PORT/",
    "http://0x7f.0.0.1:PORT/",
    "http://0177.0.0.1:PORT/",
    "http://127.1:PORT/",
    "http://[::ffff:127.0.0.1]:PORT/",
    "http://[::ffff:7f00:1]:PORT/",
    "http://localhost:PORT/",
    "http://0.0.0.0:PORT/",
    "http://[::]:PORT/"
  ])("refuse every spelling of this machine: %s", async (url) => {
    const egress = makeEgress({ allow: [], reserved: [] })
    const error = await failure(fetch(url.replace("PORT", String(port)), { dispatcher: egress.dispatcher }))
    expect(deniedReason(error)).toMatch(/loopback|unspecified/)
  })
})
