/** Builds the UI once per run (`vite build` of apps/web) into a directory of the run's own. */
import { spawn } from "node:child_process"
import { chmodSync, existsSync } from "node:fs"
import { join } from "node:path"
import { repoRoot } from "../../support/processes"

export const buildWeb = (outDir: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const vite = join(repoRoot, "node_modules", "vite", "bin", "vite.js")
    const child = spawn(
      process.execPath,
      [vite, "build", "apps/web", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      output += s
    })
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      output += s
    })
    child.once("error", reject)
    child.once("close", (code) => {
      if (code !== 0 || !existsSync(join(outDir, "index.html")))
        return reject(new Error(`vite build failed (exit ${code}):\n${output}`))
      // nginx workers run as an unprivileged user: the run's temp directory must be readable.
      chmodSync(outDir, 0o755)
      resolve(outDir)
    })
  })
