/**
 * `schemaGuard(schema)`: a type guard compiled once from a schema's type side, for values that
 * are valid almost always and large when they are (a backtest's result from its sandbox: ten
 * thousand orders and fills). `Schema.is` walks such a value through the parser, which builds an
 * Either and a copy of every object on the way; this walks it with plain checks and allocates
 * nothing, calling each refinement's own filter and falling back to `Schema.is` for the parts it
 * does not compile (declarations, template literals, recursion, parse options…).
 *
 * It is for plain data, as JSON or a structured clone (Node's IPC channel) gives: objects whose
 * prototype is Object's (or null), arrays whose prototype is Array's, own enumerable data
 * properties. It refuses other objects (a Map, a Date, a class instance), and an object with a
 * property its schema does not name (the parser would drop it from its output; here the value
 * itself is kept). An array's non-index properties are not looked at: JSON drops them. So `true`
 * means the value is the schema's type as it stands; on `false`, decode or validate through the
 * schema for its output or its error.
 */
import { Option, ParseResult, Schema, SchemaAST } from "effect"

type Guard = (u: unknown) => boolean

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null) return false
  const prototype = Object.getPrototypeOf(u)
  return prototype === Object.prototype || prototype === null
}

const isPlainArray = (u: unknown): u is ReadonlyArray<unknown> =>
  Array.isArray(u) && Object.getPrototypeOf(u) === Array.prototype

const fallback = (ast: SchemaAST.AST): Guard => ParseResult.is(Schema.make(ast), { exact: true })

const compile = (ast: SchemaAST.AST): Guard => {
  // Parse options (excess properties as errors, say) change what the parser takes: its call.
  if (Option.isSome(SchemaAST.getParseOptionsAnnotation(ast))) return fallback(ast)
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map(compile)
      return (u) => {
        for (const member of members) if (member(u)) return true
        return false
      }
    }
    case "Refinement": {
      const from = compile(ast.from)
      const options = { exact: true } as const
      return (u) => from(u) && Option.isNone(ast.filter(u, options, ast))
    }
    case "TupleType": {
      if (ast.elements.length > 0 || ast.rest.length !== 1) return fallback(ast)
      const item = compile(ast.rest[0]!.type)
      return (u) => {
        if (!isPlainArray(u)) return false
        for (let i = 0; i < u.length; i++) if (!item(u[i])) return false
        return true
      }
    }
    case "TypeLiteral": {
      if (ast.indexSignatures.some((s) => s.parameter._tag !== "StringKeyword")) return fallback(ast)
      if (ast.propertySignatures.some((p) => typeof p.name !== "string")) return fallback(ast)
      const known = ast.propertySignatures.map((p) => ({
        name: p.name as string,
        optional: p.isOptional,
        check: compile(p.type)
      }))
      const names = new Set(known.map((p) => p.name))
      const values = ast.indexSignatures.map((s) => compile(s.type))
      return (u) => {
        if (!isPlainObject(u)) return false
        for (const p of known) {
          if (!Object.hasOwn(u, p.name)) {
            if (p.optional) continue
            return false
          }
          if (!p.check(u[p.name])) return false
        }
        // A key an index signature covers is checked against it too, even when a property names it.
        for (const key of Object.keys(u)) {
          if (values.length === 0) {
            if (names.has(key)) continue
            return false
          }
          let accepted = false
          for (const value of values) if (value(u[key])) accepted = true
          if (!accepted) return false
        }
        return true
      }
    }
    default:
      return fallback(ast)
  }
}

export const schemaGuard = <A, I, R>(schema: Schema.Schema<A, I, R>): ((u: unknown) => u is A) =>
  compile(SchemaAST.typeAST(schema.ast)) as (u: unknown) => u is A
