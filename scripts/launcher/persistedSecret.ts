/**
 * Secrets for a local install that nobody has to choose: the value of the environment variable
 * if set, else one generated on the first start (32 random bytes, base64url) and kept owner-only
 * in the data directory, so that restarts, scripts and bookmarks keep working with the same
 * value. Used for the write token (QUASAR_ADMIN_TOKEN) and the key that encrypts provider
 * secrets at rest (QUASAR_SECRET_KEY: losing it would make stored secrets unreadable).
 */
import { randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { LauncherError } from "./LauncherError"

export interface PersistedSecret {
  readonly value: string
  /** Where it came from, for the banner. */
  readonly source: "environment" | "generated" | "file"
  readonly file: string
}

const wellFormed = /^[A-Za-z0-9_-]{16,}$/

const readExisting = (file: string): string | null => {
  try {
    const value = readFileSync(file, "utf8").trim()
    return wellFormed.test(value) ? value : null
  } catch {
    return null
  }
}

export const resolve = (dataDir: string, fileName: string, fromEnv: Option.Option<string>) =>
  Effect.try({
    try: (): PersistedSecret => {
      const file = join(dataDir, fileName)
      if (Option.isSome(fromEnv)) return { value: fromEnv.value, source: "environment", file }
      const existing = readExisting(file)
      if (existing !== null) {
        // A copy or an older tool may have left it readable by others.
        chmodSync(file, 0o600)
        return { value: existing, source: "file", file }
      }
      mkdirSync(dataDir, { recursive: true })
      const value = randomBytes(32).toString("base64url")
      // `mode` only applies when the file is created, hence the chmod when replacing a bad file.
      writeFileSync(file, `${value}\n`, { mode: 0o600 })
      chmodSync(file, 0o600)
      return { value, source: "generated", file }
    },
    catch: (e) => new LauncherError({ message: `cannot keep ${fileName} in ${dataDir}: ${String(e)}` })
  })
