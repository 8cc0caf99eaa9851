/**
 * What kind of address an IP is, for the egress policy. Addresses are parsed to bytes, so every
 * spelling of one address (IPv4-mapped IPv6, NAT64, 6to4, IPv4-compatible) lands in the same
 * range as the IPv4 address it carries. Pure; no DNS.
 */
import { isIPv4, isIPv6 } from "node:net"

export type AddressRange =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "reserved"

export interface Classified {
  readonly range: AddressRange
  /** The range in CIDR notation, for messages ("127.0.0.0/8"). */
  readonly cidr: string
  /** The IPv4 address an IPv6 address carries, or the address itself, canonical. */
  readonly address: string
}

interface Block {
  readonly base: ReadonlyArray<number>
  readonly bits: number
  readonly range: AddressRange
  readonly cidr: string
}

const v4Blocks: ReadonlyArray<Block> = [
  { base: [0, 0, 0, 0], bits: 8, range: "unspecified", cidr: "0.0.0.0/8" },
  { base: [10, 0, 0, 0], bits: 8, range: "private", cidr: "10.0.0.0/8" },
  { base: [100, 64, 0, 0], bits: 10, range: "shared", cidr: "100.64.0.0/10" },
  { base: [127, 0, 0, 0], bits: 8, range: "loopback", cidr: "127.0.0.0/8" },
  { base: [169, 254, 0, 0], bits: 16, range: "link-local", cidr: "169.254.0.0/16" },
  { base: [172, 16, 0, 0], bits: 12, range: "private", cidr: "172.16.0.0/12" },
  { base: [192, 0, 0, 0], bits: 24, range: "reserved", cidr: "192.0.0.0/24" },
  { base: [192, 168, 0, 0], bits: 16, range: "private", cidr: "192.168.0.0/16" },
  { base: [198, 18, 0, 0], bits: 15, range: "reserved", cidr: "198.18.0.0/15" },
  { base: [224, 0, 0, 0], bits: 4, range: "multicast", cidr: "224.0.0.0/4" },
  { base: [240, 0, 0, 0], bits: 4, range: "reserved", cidr: "240.0.0.0/4" }
]

const v6Blocks: ReadonlyArray<Block> = [
  { base: [0xfc], bits: 7, range: "unique-local", cidr: "fc00::/7" },
  { base: [0xfe, 0x80], bits: 10, range: "link-local", cidr: "fe80::/10" },
  { base: [0xfe, 0xc0], bits: 10, range: "reserved", cidr: "fec0::/10" },
  { base: [0xff], bits: 8, range: "multicast", cidr: "ff00::/8" },
  { base: [0x01, 0x00, 0, 0, 0, 0, 0, 0], bits: 64, range: "reserved", cidr: "100::/64" }
]

const within = (bytes: ReadonlyArray<number>, block: Block): boolean => {
  for (let bit = 0; bit < block.bits; bit += 8) {
    const mask = block.bits - bit >= 8 ? 0xff : (0xff << (8 - (block.bits - bit))) & 0xff
    if (((bytes[bit / 8] ?? 0) & mask) !== ((block.base[bit / 8] ?? 0) & mask)) return false
  }
  return true
}

const parseV4 = (address: string): Array<number> => address.split(".").map(Number)

/** The 16 bytes of an IPv6 address (`isIPv6` holds), a trailing dotted IPv4 part included. */
const parseV6 = (address: string): Array<number> => {
  const zoneless = address.split("%")[0] ?? ""
  let text = zoneless
  const tail: Array<number> = []
  const lastColon = text.lastIndexOf(":")
  if (text.includes(".", lastColon)) {
    tail.push(...parseV4(text.slice(lastColon + 1)))
    text = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [head = "", rest] = text.split("::")
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)))
  const left = groups(head)
  const right = rest === undefined ? [] : groups(rest)
  const words = [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
  const bytes = words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff])
  if (tail.length === 4) bytes.splice(12, 4, ...tail)
  return bytes
}

const classifyV4 = (bytes: ReadonlyArray<number>): Classified => {
  const address = bytes.join(".")
  if (bytes.every((b) => b === 255)) return { range: "reserved", cidr: "255.255.255.255/32", address }
  const block = v4Blocks.find((b) => within(bytes, b))
  return block ? { range: block.range, cidr: block.cidr, address } : { range: "public", cidr: "", address }
}

const zero = (bytes: ReadonlyArray<number>, from: number, to: number) =>
  bytes.slice(from, to).every((b) => b === 0)

const classifyV6 = (bytes: ReadonlyArray<number>, original: string): Classified => {
  // The URL parser writes IPv6 addresses in their one canonical form (RFC 5952).
  const address = new URL(`http://[${original.split("%")[0] ?? ""}]`).hostname.slice(1, -1)
  if (zero(bytes, 0, 16)) return { range: "unspecified", cidr: "::/128", address: "::" }
  if (zero(bytes, 0, 15) && bytes[15] === 1) return { range: "loopback", cidr: "::1/128", address: "::1" }
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64): the IPv4 address decides.
  const mapped = zero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff
  const compatible = zero(bytes, 0, 12)
  const nat64 =
    bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(bytes, 4, 12)
  if (mapped || compatible || nat64) return classifyV4(bytes.slice(12, 16))
  // 6to4 (2002:a.b.c.d::/48) carries an IPv4 address in bytes 2-5.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) {
    const inner = classifyV4(bytes.slice(2, 6))
    if (inner.range !== "public") return inner
  }
  const block = v6Blocks.find((b) => within(bytes, b))
  return block ? { range: block.range, cidr: block.cidr, address } : { range: "public", cidr: "", address }
}

/** The range of an IP address in its usual text form; undefined when it is not one. */
export const classifyAddress = (address: string): Classified | undefined => {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address
  if (isIPv4(bare)) return classifyV4(parseV4(bare))
  if (isIPv6(bare)) return classifyV6(parseV6(bare), bare)
  return undefined
}
