/**
 * How deeply an upload nests brackets, measured before any parser sees it: esbuild's parser
 * recurses per level and a module of a few hundred KB of `[[[[…` overflows its stack, killing
 * the bundler (see esbuildService.ts); TypeScript's parser overflows sooner. Real code nests a
 * few dozen levels. The scan skips strings, template text and comments; it does not parse.
 */

/** Far beyond real code, far below what overflows esbuild or TypeScript. */
export const MAX_NESTING = 1000

const OPEN = new Set(["(", "[", "{"])
const CLOSE = new Set([")", "]", "}"])

/** The deepest bracket nesting of `source`, stopping early once it passes `limit`. */
export const nestingDepth = (source: string, limit = MAX_NESTING): number => {
  let depth = 0
  let deepest = 0
  // Template literals nest: each `${` opened inside one is a bracket whose `}` returns to the text.
  const templates: Array<number> = []
  let i = 0
  const n = source.length
  const skipString = (quote: string) => {
    for (i++; i < n && source[i] !== quote && source[i] !== "\n"; i++) if (source[i] === "\\") i++
  }
  /** Skips template text up to its end (returns false) or up to a `${` (returns true). */
  const skipTemplateText = (): boolean => {
    for (i++; i < n; i++) {
      const c = source[i]
      if (c === "\\") i++
      else if (c === "`") return false
      else if (c === "$" && source[i + 1] === "{") {
        i++
        return true
      }
    }
    return false
  }
  const enterTemplate = () => {
    if (skipTemplateText()) {
      deepest = Math.max(deepest, ++depth)
      templates.push(depth)
    }
  }
  for (; i < n && deepest <= limit; i++) {
    const c = source[i] as string
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2)
      i = end < 0 ? n : end + 1
    } else if (c === '"' || c === "'") skipString(c)
    else if (c === "`") enterTemplate()
    else if (OPEN.has(c)) deepest = Math.max(deepest, ++depth)
    else if (CLOSE.has(c)) {
      if (c === "}" && templates.at(-1) === depth) {
        // The substitution ends: back in the template's text, maybe into its next `${`.
        templates.pop()
        depth--
        enterTemplate()
      } else depth = Math.max(0, depth - 1)
    }
  }
  return deepest
}

/** Why `source` is refused before parsing, or undefined when its nesting is reasonable. */
export const nestingProblem = (source: string): string | undefined =>
  nestingDepth(source) > MAX_NESTING
    ? `the source nests brackets more than ${MAX_NESTING} levels deep: flatten it (deeply nested data belongs in a flat table or a string)`
    : undefined
