/**
 * The compiled guard never takes what `Schema.is` refuses, and takes what it takes but for a
 * property the schema does not name: checked on values drawn from the schemas (valid) and on the same values
 * with one part replaced by anything, removed, or given an unknown property.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { BacktestFill, BacktestOrder, schemaGuard } from "../src/index"

const Sample = Schema.Struct({
  id: Schema.Int,
  name: Schema.String.pipe(Schema.maxLength(5)),
  side: Schema.Literal("buy", "sell"),
  price: Schema.optional(Schema.Number.pipe(Schema.finite())),
  exactly: Schema.optionalWith(Schema.Boolean, { exact: true }),
  note: Schema.NullOr(Schema.String),
  tags: Schema.Array(Schema.String),
  params: Schema.Record({ key: Schema.String, value: Schema.Union(Schema.Number, Schema.Boolean) }),
  nested: Schema.Struct({ at: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) }),
  // Compiled by falling back to the parser.
  code: Schema.TemplateLiteral("q", Schema.Number),
  pair: Schema.Tuple(Schema.String, Schema.Number)
})

const Trades = Schema.Struct({ orders: Schema.Array(BacktestOrder), fills: Schema.Array(BacktestFill) })

type Path = ReadonlyArray<string | number>

/** Every place in `value` where a part can be replaced: each array element and object property. */
const pathsOf = (value: unknown, at: Path = []): Array<Path> => {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...at, i], ...pathsOf(v, [...at, i])])
  if (typeof value === "object" && value !== null)
    return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...pathsOf(v, [...at, k])])
  return []
}

type Change =
  | { readonly _tag: "replace"; readonly by: unknown }
  | { readonly _tag: "remove" }
  | { readonly _tag: "extra" }

/** `value` with the part at `path` changed, copied along the path (the rest shared). */
const changed = (value: unknown, path: Path, change: Change): unknown => {
  if (path.length === 0) {
    if (change._tag === "replace") return change.by
    if (change._tag === "extra" && typeof value === "object" && value !== null && !Array.isArray(value))
      return { ...value, notInTheSchema: 1 }
    return value
  }
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    const copy = [...value]
    if (rest.length === 0 && change._tag === "remove") copy.splice(head as number, 1)
    else copy[head as number] = changed(copy[head as number], rest, change)
    return copy
  }
  const copy = { ...(value as Record<string, unknown>) }
  if (rest.length === 0 && change._tag === "remove") delete copy[head as string]
  else copy[head as string] = changed(copy[head as string], rest, change)
  return copy
}

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.anything().map((by): Change => ({ _tag: "replace", by })),
  fc.constant<Change>({ _tag: "remove" }),
  fc.constant<Change>({ _tag: "extra" })
)

const agrees = <A, I>(schema: Schema.Schema<A, I>) => {
  const guard = schemaGuard(schema)
  const is = Schema.is(schema)
  fc.assert(fc.property(Arbitrary.make(schema), (value) => guard(value) && is(value)))
  fc.assert(
    fc.property(
      Arbitrary.make(schema).chain((value) =>
        fc.tuple(fc.constant(value), fc.constantFrom<Path>([], ...pathsOf(value)), change)
      ),
      ([value, path, how]) => {
        const mutated = changed(value, path, how)
        // What the guard takes, the parser takes: always.
        if (guard(mutated) && !is(mutated)) return false
        // The guard may refuse more only where an object may carry a property the schema does not
        // name: one added, or an object put in.
        const objectPut = how._tag === "replace" && typeof how.by === "object" && how.by !== null
        return how._tag === "extra" || objectPut || guard(mutated) === is(mutated)
      }
    ),
    { numRuns: 500 }
  )
}

describe("schemaGuard", () => {
  it("agrees with Schema.is on a schema of every kind it compiles", () => agrees(Sample))
  it("agrees with Schema.is on a backtest's orders and fills", () => agrees(Trades))

  it("refuses a property the schema does not name, which the parser would drop", () => {
    const guard = schemaGuard(BacktestFill)
    const fill = {
      orderId: 1,
      symbol: "bench:BTC/USD",
      side: "buy",
      ts: 60_000,
      quantity: 1,
      price: 2,
      fee: 0
    }
    expect(guard(fill)).toBe(true)
    expect(guard({ ...fill, huge: "x".repeat(10) })).toBe(false)
    expect(Schema.is(BacktestFill)({ ...fill, huge: "x" })).toBe(true)
    expect(guard({ ...fill, quantity: Number.NaN })).toBe(false)
    expect(guard({ ...fill, ts: 1.5 })).toBe(false)
  })

  it("takes plain data only: a Map, a Date or a class instance goes to the parser", () => {
    const guard = schemaGuard(Sample.fields.params)
    expect(guard({ a: 1, b: true })).toBe(true)
    expect(guard(Object.assign(Object.create(null), { a: 1 }))).toBe(true)
    expect(guard(new Map([["a", 1]]))).toBe(false)
    expect(guard(new Date(0))).toBe(false)
    class Params {
      a = 1
    }
    expect(guard(new Params())).toBe(false)
    expect(schemaGuard(Sample.fields.tags)(new (class extends Array<string> {})())).toBe(false)
  })

  it("leaves a schema with parse options to the parser", () => {
    const Strict = Schema.Struct({ a: Schema.Number }).annotations({
      parseOptions: { onExcessProperty: "error" }
    })
    const guard = schemaGuard(Strict)
    const withSymbol = { a: 1, [Symbol("extra")]: 1 }
    expect(guard(withSymbol)).toBe(Schema.is(Strict)(withSymbol))
    expect(guard({ a: 1 })).toBe(true)
  })
})
