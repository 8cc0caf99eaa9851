/**
 * No Docker engine runs here, so the compose file and Dockerfiles are checked by reading them:
 * the services, what is published, health checks, restart policies, the database volume,
 * secrets from the env file, pinned images, multi-stage builds and non-root runtime users.
 */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

interface Service {
  readonly image?: string
  readonly build?: { readonly context: string; readonly dockerfile: string }
  readonly ports?: ReadonlyArray<string>
  readonly healthcheck?: { readonly test: ReadonlyArray<string> | string }
  readonly restart?: string
  readonly depends_on?: Record<string, { readonly condition: string }>
  readonly env_file?: string
  readonly environment?: Record<string, string>
  readonly volumes?: ReadonlyArray<string>
  readonly deploy?: { readonly replicas?: number }
  readonly container_name?: string
}

const root = join(import.meta.dirname, "..")
const compose = parse(readFileSync(join(root, "ops/compose.yaml"), "utf8")) as {
  services: Record<string, Service>
  volumes: Record<string, unknown>
}
const { services } = compose

describe("ops/compose.yaml", () => {
  it("runs TimescaleDB, Registry, DataHub, Trader and Nginx with the UI", () => {
    expect(Object.keys(services).sort()).toEqual(["datahub", "db", "registry", "trader", "web"])
    expect(services.db?.image).toMatch(/^timescale\/timescaledb:\d+\.\d+\.\d+-pg\d+$/)
  })

  it("publishes only Nginx", () => {
    const published = Object.entries(services).filter(([, s]) => (s.ports ?? []).length > 0)
    expect(published.map(([name]) => name)).toEqual(["web"])
  })

  it("runs DataHub as three runners of one cluster, each reached by its own container name", () => {
    const datahub = services.datahub
    expect(datahub?.deploy?.replicas).toBe(3)
    // Replicas cannot share a fixed name or a published port.
    expect(datahub?.container_name).toBeUndefined()
    expect(datahub?.ports ?? []).toEqual([])
    expect(datahub?.environment?.QUASAR_CLUSTER_RUNNER_ADDRESS).toMatch(/^hostname:\d+$/)
    expect(datahub?.environment?.QUASAR_CLUSTER_LISTEN_HOST).toBe("0.0.0.0")
  })

  it("gives every service a health check and a restart policy, and starts in health order", () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test, name).toBeDefined()
      expect(s.restart, name).toBe("unless-stopped")
    }
    expect(services.registry?.depends_on?.db?.condition).toBe("service_healthy")
    expect(services.datahub?.depends_on?.db?.condition).toBe("service_healthy")
    expect(services.trader?.depends_on?.db?.condition).toBe("service_healthy")
    expect(services.web?.depends_on?.registry?.condition).toBe("service_healthy")
    expect(services.web?.depends_on?.datahub?.condition).toBe("service_healthy")
    expect(services.web?.depends_on?.trader?.condition).toBe("service_healthy")
    expect(JSON.stringify(services.trader?.healthcheck?.test)).toContain("127.0.0.1:8082/health")
  })

  it("keeps the database in a named volume and secrets in the env file", () => {
    expect(compose.volumes).toHaveProperty("pgdata")
    expect(services.db?.volumes).toContain("pgdata:/var/lib/postgresql/data")
    // The secret key is the Registry's alone: in a file only the Registry reads.
    expect(services.registry?.env_file).toEqual([".env", "registry.env"])
    for (const name of ["datahub", "trader"]) expect(services[name]?.env_file).toBe(".env")
    for (const name of ["registry", "datahub", "trader"]) {
      const env = JSON.stringify(services[name]?.environment ?? {})
      expect(env).not.toMatch(/QUASAR_ADMIN_TOKEN|QUASAR_SECRET_KEY/)
    }
    expect(services.registry?.environment?.DATAHUB_URL).toBe("http://datahub:8081")
    expect(services.datahub?.environment?.REGISTRY_URL).toBe("http://registry:8080")
    // Trader reaches the others over HTTP only; the port is its own.
    expect(services.trader?.environment).toMatchObject({
      SERVICE: "trader",
      TRADER_PORT: "8082",
      REGISTRY_URL: "http://registry:8080",
      DATAHUB_URL: "http://datahub:8081"
    })
    expect(services.trader?.build?.dockerfile).toBe("ops/docker/service.Dockerfile")
    const example = readFileSync(join(root, "ops/.env.example"), "utf8")
    for (const key of ["POSTGRES_PASSWORD", "QUASAR_ADMIN_TOKEN", "QUASAR_SERVICE_TOKEN"])
      expect(example).toContain(key)
    expect(example).not.toContain("QUASAR_SECRET_KEY")
    expect(readFileSync(join(root, "ops/registry.env.example"), "utf8")).toContain("QUASAR_SECRET_KEY=")
  })

  it("gives Registry, DataHub and Trader the same service credential, required from the env file", () => {
    for (const name of ["registry", "datahub", "trader"])
      expect(services[name]?.environment?.QUASAR_SERVICE_TOKEN, name).toMatch(/^\$\{QUASAR_SERVICE_TOKEN:\?/)
    expect(services.web?.environment?.QUASAR_SERVICE_TOKEN).toBeUndefined()
  })

  it("builds from multi-stage Dockerfiles with pinned bases and non-root runtime users", () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.build) continue
      const path = join(root, "ops", s.build.context, s.build.dockerfile)
      expect(existsSync(path), `${name}: ${path}`).toBe(true)
      const text = readFileSync(path, "utf8")
      const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? "")
      expect(froms.length, name).toBeGreaterThanOrEqual(2)
      for (const image of froms) expect(image, name).toMatch(/:\d+(\.\d+)+(-[a-z0-9.-]+)?$/)
      const runtime = text.slice(text.lastIndexOf("FROM "))
      expect(runtime.includes("USER quasar") || runtime.includes("nginx-unprivileged"), name).toBe(true)
    }
  })

  it("copies every workspace manifest before npm ci, so the install layer caches", () => {
    const text = readFileSync(join(root, "ops/docker/service.Dockerfile"), "utf8")
    const workspaces = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      workspaces: Array<string>
    }
    expect(workspaces.workspaces.length).toBeGreaterThan(0)
    for (const dir of [
      "apps/registry",
      "apps/datahub",
      "apps/trader",
      "apps/web",
      "libs/domain",
      "libs/providers",
      "libs/server",
      "migrations"
    ])
      expect(text).toContain(`COPY ${dir}/package.json ${dir}/`)
  })
})

describe("ops/docker/web.Dockerfile's nginx layout", () => {
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p))
  it.skipIf(nginx === undefined && !process.env.CI)("passes `nginx -t` as the image assembles it", () => {
    // The image's layout under a temporary prefix; compose's upstream host names do not resolve
    // here, so only they are swapped for loopback — every other file is the one the image copies.
    const prefix = mkdtempSync(join(tmpdir(), "quasar-nginx-"))
    const quasarDir = join(prefix, "quasar")
    cpSync(join(root, "ops/nginx"), quasarDir, { recursive: true })
    cpSync(join(root, "ops/docker/nginx/listen.conf"), join(quasarDir, "listen.conf"))
    const upstreams = readFileSync(join(root, "ops/docker/nginx/upstreams.conf"), "utf8")
    expect(upstreams).toMatch(/server registry:8080;/)
    expect(upstreams).toMatch(/server datahub:8081 resolve;/)
    expect(upstreams).toMatch(/server trader:8082;/)
    // Re-resolving an upstream's name (`resolve`, with a `resolver` in the upstream) needs
    // nginx 1.27.3, the image's 1.27.5; Debian's may be older, so those parts go for its check.
    writeFileSync(
      join(quasarDir, "upstreams.conf"),
      upstreams
        .replace(/(registry|datahub|trader):/g, "127.0.0.1:")
        .replace(/ resolve;/g, ";")
        .replace(/^\s*resolver .*$/gm, "")
    )
    mkdirSync(join(prefix, "conf.d"))
    cpSync(join(root, "ops/docker/nginx/default.conf"), join(prefix, "conf.d/default.conf"))
    writeFileSync(
      join(prefix, "nginx.conf"),
      `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp { include /etc/nginx/mime.types; include conf.d/*.conf; }\n`
    )
    const out = spawnSync(nginx ?? "nginx", ["-t", "-p", prefix, "-c", join(prefix, "nginx.conf")], {
      encoding: "utf8"
    })
    expect(out.stderr).toContain("syntax is ok")
    expect(out.status).toBe(0)
  })
})
