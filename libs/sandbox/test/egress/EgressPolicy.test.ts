/**
 * The egress decision as a table: every spelling of a non-public address is refused, public
 * ones are not, allowlist entries open what they name, and reserved ports stay closed unless an
 * entry names exactly that host and port.
 */
import { describe, expect, it } from "vitest"
import { classifyAddress } from "../../src/node/egress/addressRanges"
import { decide, type EgressRules } from "../../src/node/egress/EgressPolicy"

const none: EgressRules = { allow: [], reserved: [] }

describe("address ranges", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["2002:7f00:1::", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:a01:203", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["169.254.169.254", "link-local"],
    ["::ffff:169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["240.0.0.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["8.8.8.8", "public"],
    ["172.15.255.255", "public"],
    ["172.32.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.128.0.0", "public"],
    ["169.253.255.255", "public"],
    ["11.0.0.1", "public"],
    ["2606:4700:4700::1111", "public"],
    ["::ffff:8.8.8.8", "public"],
    ["fbff::1", "public"]
  ])("%s is %s", (address, range) => {
    expect(classifyAddress(address)?.range).toBe(range)
  })

  it.each(["localhost", "2130706433", "0x7f.1", "127.1", "1.2.3", "::ffff:127.0.0.256", ""])(
    "%s is not an address (names and odd spellings are resolved first)",
    (text) => {
      expect(classifyAddress(text)).toBeUndefined()
    }
  )

  it("gives IPv4 inside IPv6 as the IPv4 address", () => {
    expect(classifyAddress("::ffff:7f00:1")?.address).toBe("127.0.0.1")
    expect(classifyAddress("0:0:0:0:0:0:0:1")?.address).toBe("::1")
    expect(classifyAddress("2001:DB8:0:0:0:0:0:1")?.address).toBe("2001:db8::1")
  })
})

describe("egress decision", () => {
  const at = (host: string, port: number, address = host) => ({ host, port, address })

  it.each([
    ["127.0.0.1", "loopback (127.0.0.0/8)"],
    ["::1", "loopback (::1/128)"],
    ["::ffff:127.0.0.1", "loopback (127.0.0.0/8)"],
    ["10.1.2.3", "a private range (10.0.0.0/8)"],
    ["172.20.0.1", "a private range (172.16.0.0/12)"],
    ["192.168.0.10", "a private range (192.168.0.0/16)"],
    ["169.254.169.254", "link-local (where cloud metadata services live) (169.254.0.0/16)"],
    ["fe80::1", "link-local (where cloud metadata services live) (fe80::/10)"],
    ["fd00::1", "a unique-local IPv6 range (fc00::/7)"],
    ["100.64.1.1", "the carrier-grade NAT range (100.64.0.0/10)"]
  ])("refuses %s by default, naming the range and the way to open it", (address, words) => {
    const verdict = decide(none, at(address, 80))
    expect(verdict.allowed).toBe(false)
    if (!verdict.allowed) {
      expect(verdict.reason).toContain(words)
      expect(verdict.reason).toContain("QUASAR_SANDBOX_ALLOW_HOSTS")
    }
  })

  it.each(["0.0.0.0", "::", "224.0.0.1", "ff02::1"])("refuses %s even when allowlisted", (address) => {
    const rules: EgressRules = { allow: [{ host: address }, { host: address, port: 80 }], reserved: [] }
    expect(decide(rules, at(address, 80)).allowed).toBe(false)
  })

  it("refuses a name that resolved to a private address, saying both", () => {
    const verdict = decide(none, at("internal.example.com", 443, "10.0.0.5"))
    expect(verdict).toEqual({
      allowed: false,
      reason: expect.stringContaining("internal.example.com (10.0.0.5) is a private range")
    })
  })

  it.each(["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows the public address %s",
    (address) => {
      expect(decide(none, at(address, 443)).allowed).toBe(true)
      expect(decide(none, at("api.example.com", 443, address)).allowed).toBe(true)
    }
  )

  it("admits an allowlisted host by name or by address, on any port, and nothing else", () => {
    const rules: EgressRules = { allow: [{ host: "fake.test" }, { host: "10.0.0.9" }], reserved: [] }
    expect(decide(rules, at("fake.test", 9000, "127.0.0.1")).allowed).toBe(true)
    expect(decide(rules, at("FAKE.TEST.", 9001, "127.0.0.1")).allowed).toBe(true)
    expect(decide(rules, at("10.0.0.9", 22)).allowed).toBe(true)
    expect(decide(rules, at("other.test", 80, "10.0.0.9")).allowed).toBe(true)
    expect(decide(rules, at("other.test", 9000, "127.0.0.1")).allowed).toBe(false)
    expect(decide(rules, at("10.0.0.10", 80)).allowed).toBe(false)
  })

  it("admits a host:port entry on that port only; IPv6 entries compare canonically", () => {
    const rules: EgressRules = {
      allow: [
        { host: "127.0.0.1", port: 9000 },
        { host: "0:0:0:0:0:0:0:1", port: 9000 }
      ],
      reserved: []
    }
    expect(decide(rules, at("127.0.0.1", 9000)).allowed).toBe(true)
    expect(decide(rules, at("127.0.0.1", 9001)).allowed).toBe(false)
    expect(decide(rules, at("::1", 9000)).allowed).toBe(true)
    expect(decide(rules, at("[::1]", 9000)).allowed).toBe(true)
    expect(decide(rules, at("localhost", 9000, "127.0.0.1")).allowed).toBe(true)
  })

  describe("reserved ports", () => {
    const reserved = [
      { port: 5432, what: "the database", addresses: ["203.0.113.7"] },
      { port: 8081, what: "DataHub's own port" }
    ]

    it("stay closed on loopback even when loopback is allowlisted", () => {
      const rules: EgressRules = { allow: [{ host: "127.0.0.1" }, { host: "localhost" }], reserved }
      for (const destination of [
        at("127.0.0.1", 5432),
        at("localhost", 5432, "127.0.0.1"),
        at("127.0.0.1", 8081)
      ]) {
        const verdict = decide(rules, destination)
        expect(verdict.allowed).toBe(false)
        if (!verdict.allowed) expect(verdict.reason).toMatch(/is (the database|DataHub's own port)/)
      }
      expect(decide(rules, at("127.0.0.1", 9000)).allowed).toBe(true)
    })

    it("stay closed on every non-public address and on the database's own public address", () => {
      const rules: EgressRules = { allow: [{ host: "10.0.0.2" }], reserved }
      expect(decide(rules, at("10.0.0.2", 5432)).allowed).toBe(false)
      expect(decide(rules, at("203.0.113.7", 5432)).allowed).toBe(false)
      expect(decide(rules, at("203.0.113.8", 5432)).allowed).toBe(true)
    })

    it("open for an entry naming exactly that host and port", () => {
      const rules: EgressRules = { allow: [{ host: "127.0.0.1", port: 5432 }], reserved }
      expect(decide(rules, at("127.0.0.1", 5432)).allowed).toBe(true)
      expect(decide(rules, at("127.0.0.2", 5432)).allowed).toBe(false)
    })
  })

  it("refuses a destination whose resolved address is not an IP address", () => {
    expect(decide(none, at("x.test", 80, "not-an-ip")).allowed).toBe(false)
  })

  it("with onlyHosts, refuses every host the list does not name, before any other rule", () => {
    const broker: EgressRules = {
      ...none,
      allow: [{ host: "127.0.0.1" }],
      onlyHosts: ["api.kraken.com", "127.0.0.1"]
    }
    expect(decide(broker, at("api.kraken.com", 443, "104.16.1.1")).allowed).toBe(true)
    expect(decide(broker, at("API.Kraken.com.", 443, "104.16.1.1")).allowed).toBe(true)
    expect(decide(broker, at("127.0.0.1", 9000, "127.0.0.1")).allowed).toBe(true)
    const other = decide(broker, at("example.com", 443, "93.184.216.34"))
    expect(other).toEqual({
      allowed: false,
      reason: expect.stringContaining("example.com is not a host this code's settings name")
    })
    // The name decides, not the address it resolves to: `localhost` is not `127.0.0.1`.
    expect(decide(broker, at("localhost", 9000, "127.0.0.1")).allowed).toBe(false)
    expect(decide({ ...none, onlyHosts: [] }, at("api.kraken.com", 443, "104.16.1.1")).allowed).toBe(false)
  })
})
