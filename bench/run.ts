/**
 * Runs every `bench/*.bench.ts` one after another, each in a child process of its own (so one
 * benchmark's heap and peak RSS never affect the next), and exits non-zero if any of them fails:
 * a non-zero exit, or a last stdout line that is not a result with `"pass": true`.
 * `npm run bench -- writer` runs only the benchmarks whose file name contains "writer".
 */
import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts") && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort()

interface Outcome {
  readonly file: string
  readonly ok: boolean
  readonly summary: string
}

const run = (file: string) =>
  new Promise<Outcome>((resolve) => {
    let stdout = ""
    const child = spawn(process.execPath, ["--import", "tsx", join(here, file)], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      process.stdout.write(chunk)
    })
    child.on("close", (code) => {
      const last = stdout.trimEnd().split("\n").at(-1) ?? ""
      let pass = false
      try {
        const parsed: unknown = JSON.parse(last)
        pass = typeof parsed === "object" && parsed !== null && "pass" in parsed && parsed.pass === true
      } catch {
        pass = false
      }
      const ok = code === 0 && pass
      resolve({ file, ok, summary: code === 0 ? last : `exited with code ${code}` })
    })
  })

const outcomes: Array<Outcome> = []
for (const file of benches) {
  process.stderr.write(`\n=== ${file}\n`)
  outcomes.push(await run(file))
}
process.stderr.write("\n=== summary\n")
for (const o of outcomes) process.stderr.write(`${o.ok ? "PASS" : "FAIL"} ${o.file}: ${o.summary}\n`)
if (benches.length === 0) process.stderr.write("no bench/*.bench.ts matched\n")
process.exit(benches.length > 0 && outcomes.every((o) => o.ok) ? 0 : 1)
