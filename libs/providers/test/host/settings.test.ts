import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { makeProviderContext } from "../../src/host/context"
import { resolveSettings } from "../../src/host/settings"
import { fakeProvider, quietLogger } from "./fakes"

const spec = {
  apiKey: { type: "string", secret: true, required: true },
  baseUrl: { type: "url", default: "https://api.example.com" },
  pageSize: { type: "number", default: 720 },
  adjusted: { type: "boolean", default: true },
  note: { type: "string" }
} as const

describe("resolveSettings", () => {
  it("applies defaults and keeps given values", () => {
    expect(resolveSettings(spec, { apiKey: "k", pageSize: 100, unknown: "dropped" })).toEqual(
      Either.right({ apiKey: "k", baseUrl: "https://api.example.com", pageSize: 100, adjusted: true })
    )
  })

  it("treats empty and null values as not given", () => {
    const resolved = resolveSettings(spec, { apiKey: "k", baseUrl: "", pageSize: null, note: undefined })
    expect(resolved).toEqual(
      Either.right({ apiKey: "k", baseUrl: "https://api.example.com", pageSize: 720, adjusted: true })
    )
  })

  it("reports every problem at once: missing required, wrong types, bad URL", () => {
    const resolved = resolveSettings(spec, {
      baseUrl: "ftp://files.example.com",
      pageSize: "720",
      adjusted: "yes"
    })
    expect(resolved).toEqual(
      Either.left([
        { setting: "apiKey", message: "is required" },
        { setting: "baseUrl", message: "must be an http(s) or ws(s) URL, got ftp:" },
        { setting: "pageSize", message: 'must be a finite number, got "720"' },
        { setting: "adjusted", message: 'must be true or false, got "yes"' }
      ])
    )
    expect(resolveSettings(spec, { apiKey: 1, baseUrl: "not a url" })).toEqual(
      Either.left([
        { setting: "apiKey", message: "must be text, got 1" },
        { setting: "baseUrl", message: 'must be an absolute URL, got "not a url"' }
      ])
    )
  })

  it("holds numbers to the bounds the spec declares", () => {
    const bounded = { updateMs: { type: "number", default: 1_000, min: 100, max: 60_000 } } as const
    expect(resolveSettings(bounded, { updateMs: 100 })).toEqual(Either.right({ updateMs: 100 }))
    expect(resolveSettings(bounded, { updateMs: 1 })).toEqual(
      Either.left([{ setting: "updateMs", message: "must be between 100 and 60000, got 1" }])
    )
  })

  it("makeProviderContext refuses bad settings with a fatal error naming them", () => {
    const provider = fakeProvider({ settings: spec })
    const ctx = makeProviderContext({
      provider,
      settings: { pageSize: Number.NaN },
      connect: () => Promise.reject(new Error("unused")),
      logger: quietLogger,
      signal: new AbortController().signal
    })
    expect(ctx).toEqual(
      Either.left(
        expect.objectContaining({
          _tag: "ProviderFatalError",
          message: "invalid settings: apiKey is required; pageSize must be a finite number, got NaN"
        })
      )
    )
  })
})
