import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { SettingField } from "../src/CodeVersion"
import { settingBounds, settingRulesProblem, settingValueProblem } from "../src/settingValue"

describe("settingValueProblem", () => {
  it("checks a value against its type", () => {
    expect(settingValueProblem({ type: "number" }, 5)).toBeUndefined()
    expect(settingValueProblem({ type: "number" }, Number.NaN)).toBe("must be a finite number, got NaN")
    expect(settingValueProblem({ type: "number" }, "5")).toBe('must be a finite number, got "5"')
    expect(settingValueProblem({ type: "boolean" }, "yes")).toBe('must be true or false, got "yes"')
    expect(settingValueProblem({ type: "string" }, 1)).toBe("must be text, got 1")
    expect(settingValueProblem({ type: "url" }, "wss://ws.example.com/v2")).toBeUndefined()
    expect(settingValueProblem({ type: "url" }, "ftp://x")).toBe("must be an http(s) or ws(s) URL, got ftp:")
    expect(settingValueProblem({ type: "url" }, "nope")).toBe('must be an absolute URL, got "nope"')
  })

  it("holds a number to its bounds, inclusive", () => {
    const rules = { type: "number", min: 100, max: 60_000 } as const
    expect(settingValueProblem(rules, 100)).toBeUndefined()
    expect(settingValueProblem(rules, 60_000)).toBeUndefined()
    expect(settingValueProblem(rules, 99)).toBe("must be between 100 and 60000, got 99")
    expect(settingValueProblem({ type: "number", min: 100 }, 1)).toBe("must be at least 100, got 1")
    expect(settingValueProblem({ type: "number", max: 5 }, 6)).toBe("must be at most 5, got 6")
    expect(settingBounds({ type: "number" })).toBeUndefined()
  })
})

describe("settingRulesProblem", () => {
  it("refuses bounds that cannot hold", () => {
    expect(settingRulesProblem({ type: "number", min: 1, max: 0 })).toBe("min 1 is above max 0")
    expect(settingRulesProblem({ type: "string", min: 1 })).toBe(
      "min and max apply to number settings only, not to string"
    )
    expect(settingRulesProblem({ type: "number", min: 100, default: 10 })).toBe(
      "its default must be at least 100, got 10"
    )
    expect(settingRulesProblem({ type: "number", min: 100, default: 1_000 })).toBeUndefined()
  })

  it("makes a SettingField with such bounds fail to decode", () => {
    const decode = Schema.decodeUnknownEither(SettingField)
    expect(Either.isRight(decode({ key: "updateMs", type: "number", min: 100 }))).toBe(true)
    expect(Either.isLeft(decode({ key: "updateMs", type: "number", min: 100, max: 10 }))).toBe(true)
  })
})
