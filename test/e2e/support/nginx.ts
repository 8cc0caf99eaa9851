/**
 * Real nginx with the production configuration: ops/nginx/quasar.conf and its snippets are used
 * unchanged; only the two deployment includes (upstreams.conf, listen.conf) are generated for
 * loopback ports and the run's UI build, inside a minimal main config like Debian's.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { repoRoot, within } from "../../support/processes"

export interface NginxOptions {
  readonly binary: string
  readonly dir: string
  readonly port: number
  readonly webRoot: string
  readonly registryPort: number
  readonly datahubPort: number
  /** Absent in runs without Trader: its routes then answer 502 (nothing listens on the discard port). */
  readonly traderPort?: number
}

export interface RunningNginx {
  readonly url: string
  readonly errorLog: () => string
  readonly stop: () => Promise<void>
}

const writeConfig = (o: NginxOptions) => {
  const conf = join(o.dir, "conf")
  const site = join(conf, "quasar")
  mkdirSync(site, { recursive: true })
  cpSync(join(repoRoot, "ops", "nginx", "quasar.conf"), join(site, "quasar.conf"))
  cpSync(join(repoRoot, "ops", "nginx", "snippets"), join(site, "snippets"), { recursive: true })
  writeFileSync(
    join(site, "upstreams.conf"),
    `upstream quasar_registry { server 127.0.0.1:${o.registryPort}; keepalive 16; }\n` +
      `upstream quasar_datahub { server 127.0.0.1:${o.datahubPort}; keepalive 16; }\n` +
      `upstream quasar_trader { server 127.0.0.1:${o.traderPort ?? 9}; keepalive 16; }\n`
  )
  writeFileSync(
    join(site, "listen.conf"),
    `listen 127.0.0.1:${o.port};\nserver_name localhost;\nroot ${o.webRoot};\n`
  )
  const main = join(conf, "nginx.conf")
  writeFileSync(
    main,
    [
      "daemon off;",
      "worker_processes 1;",
      `pid ${join(o.dir, "nginx.pid")};`,
      `error_log ${join(o.dir, "error.log")} warn;`,
      "events { worker_connections 512; }",
      "http {",
      "  include /etc/nginx/mime.types;",
      "  default_type application/octet-stream;",
      "  access_log off;",
      "  sendfile on;",
      // Debian's build puts these under /var/lib/nginx: keep the run's files in its own directory.
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
        (t) => `  ${t}_temp_path ${join(o.dir, `${t}_temp`)};`
      ),
      "  include quasar/quasar.conf;",
      "}",
      ""
    ].join("\n")
  )
  return main
}

const waitForPort = async (url: string, child: ChildProcess, log: () => string) => {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${log()}`)
    try {
      await fetch(`${url}/index.html`)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`nginx did not answer on ${url}:\n${log()}`)
}

export const startNginx = async (o: NginxOptions): Promise<RunningNginx> => {
  const main = writeConfig(o)
  const errorLog = () => {
    try {
      return readFileSync(join(o.dir, "error.log"), "utf8")
    } catch {
      return ""
    }
  }
  // -e: the error log before the config is read (the default /var/log/nginx may not be writable).
  const child = spawn(o.binary, ["-p", o.dir, "-c", main, "-e", join(o.dir, "error.log")], {
    stdio: "ignore"
  })
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()))
  const url = `http://127.0.0.1:${o.port}`
  await waitForPort(url, child, errorLog)
  return {
    url,
    errorLog,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill("SIGQUIT")
      await within(10_000, "nginx graceful stop", exited).catch(() => child.kill("SIGKILL"))
    }
  }
}
