// The HTTP store end to end, as users run it: `xmon store serve` in one process, every other
// command with `--store umrath:URL`, the streams found through the inventory pages.
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { tempDir } from "../support/stores.js"

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))
const HISTORY = fileURLToPath(new URL("../../fixtures/history.jsonl", import.meta.url))
const temp = tempDir("xmon-umrath-cli-")
const children: Array<ChildProcess> = []
afterAll(() => children.forEach((c) => c.kill("SIGKILL")))

/** Starts `xmon store serve` on a free loopback port and resolves its URL from its log line. */
const serve = (db: string) => serveChild(db).then(({ url }) => url)

const serveChild = (db: string) =>
  new Promise<{ url: string; child: ChildProcess }>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "store", "serve", "--listen", "127.0.0.1:0", "--store", `sqlite:${db}`], {
      stdio: ["ignore", "ignore", "pipe"],
    })
    children.push(child)
    let stderr = ""
    const timer = setTimeout(() => reject(new Error(`store serve did not start: ${stderr}`)), 30_000)
    child.stderr.on("data", (d) => {
      stderr += d
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]
      if (url) {
        clearTimeout(timer)
        resolve({ url, child })
      }
    })
    child.on("exit", () => reject(new Error(`store serve exited: ${stderr}`)))
  })

/** Pages naming every entity of the fixture history, as the original's output directory would. */
const writePages = (dir: string) => {
  const page = (kind: string, id: string, fields: string) => {
    mkdirSync(join(dir, kind), { recursive: true })
    writeFileSync(join(dir, kind, `${id}.md`), `---\nid: ${id}\n${fields}---\n`)
  }
  for (const id of ["gap-example", "noexpiry-example", "nsmove-example", "quiet-example", "walk-example"])
    page("domains", id, "_type: domain\n")
  for (const id of ["api-alpha", "flaky-alpha", "late-alpha", "mail-alpha", "old-alpha", "www-alpha"])
    page("hostnames", id, "_type: hostname\n")
  for (const id of ["192-0-2-50", "192-0-2-62", "198-51-100-90"]) page("ipv4s", id, "_type: ipv4\nstatus: :up\n")
  for (const id of [
    "portscan-192-0-2-11-443-www-alpha-example",
    "portscan-192-0-2-20-443-api-alpha-example",
    "portscan-192-0-2-25-443-mail-alpha-example",
    "portscan-192-0-2-60-443-a-shared-example",
    "portscan-192-0-2-61-443-b-shared-example",
    "portscan-192-0-2-70-443-walk-example",
    "portscan-192-0-2-80-443-jump-example",
    "portscan-192-0-2-90-443-quiet-example",
  ])
    page("portscans", id, "_type: portscan\nport: 443\n")
}

const xmonAsync = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

const xmon = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe("--store umrath:URL against xmon store serve", () => {
  it("import and evaluate over HTTP derive exactly what the embedded store derives", { timeout: 120_000 }, async () => {
    const output = join(temp.dir, "output")
    writePages(output)
    const url = await serve(temp.file("served.db"))
    const env = { EZRECON_OUTPUT_DIR: output, EZRECON_EVAL_CHECKPOINT: join(temp.dir, "checkpoint.json"), UMRATH_URL: "" }
    const store = ["--store", `umrath:${url}`]

    const imported = xmon(["store", "import", HISTORY, ...store, "--json"], env)
    expect(imported.code, imported.stderr).toBe(0)
    expect(JSON.parse(imported.stdout)).toMatchObject({ stored: 330 })
    const overHttp = xmon(["evaluate", ...store, "--json"], env)
    expect(overHttp.code, overHttp.stderr).toBe(0)
    expect(JSON.parse(overHttp.stdout)).toMatchObject({ mode: "full", raw_events: 330 })
    const again = xmon(["evaluate", ...store, "--json"], env)
    expect(JSON.parse(again.stdout)).toMatchObject({ mode: "incremental", new_raw_events: 0, stored: 0 })

    const local = ["--store", `sqlite:${temp.file()}`]
    expect(xmon(["store", "import", HISTORY, ...local], env).code).toBe(0)
    expect(xmon(["evaluate", ...local], env).code).toBe(0)

    const derived = (args: ReadonlyArray<string>) =>
      xmon(["events", ...args, "--format", "jsonl"], env)
        .stdout.trim()
        .split("\n")
        .map((l) => {
          const { event_id, event_type, aggregate_type, aggregate_id, payload } = JSON.parse(l)
          return { event_id, event_type, aggregate_type, aggregate_id, payload }
        })
        .sort((a, b) => a.event_id.localeCompare(b.event_id))
    const viaHttp = derived(store)
    expect(viaHttp.length).toBe(48)
    expect(viaHttp).toEqual(derived(local))
  })

  it("a store that dies mid-import: what it did not take waits in the outbox, exit 1; the next run sends it first", { timeout: 180_000 }, async () => {
    const dir = join(temp.dir, "outbox-case")
    const output = join(dir, "output")
    writePages(output)
    const db = temp.file("served-outbox.db")
    const env = { EZRECON_OUTPUT_DIR: output, EZRECON_EVAL_CHECKPOINT: join(dir, "checkpoint.json"), UMRATH_URL: "" }
    const lines = (await import("node:fs")).readFileSync(HISTORY, "utf8").trim().split("\n")
    const first = temp.file("first.jsonl")
    const second = temp.file("second.jsonl")
    writeFileSync(first, `${lines.slice(0, 100).join("\n")}\n`)
    writeFileSync(second, `${lines.slice(100).join("\n")}\n`)

    const server = await serveChild(db)
    const ok = await xmonAsync(["store", "import", first, "--store", `umrath:${server.url}`, "--json"], env)
    expect(ok.code, ok.stderr).toBe(0)
    server.child.kill("SIGKILL")
    await new Promise((r) => server.child.once("exit", r))

    const parked = await xmonAsync(["store", "import", second, "--store", `umrath:${server.url}`, "--json"], env)
    expect(parked.code).toBe(1)
    expect(parked.stderr).toContain("230 events could not be stored and wait in")
    expect(parked.stderr).toContain(join(output, ".xmon", "outbox.db"))

    // The store comes back (on another port: the outbox holds events, not addresses).
    const again = await serveChild(db)
    const nothingNew = temp.file("empty.jsonl")
    writeFileSync(nothingNew, "")
    const flushed = await xmonAsync(["store", "import", nothingNew, "--store", `umrath:${again.url}`, "--json"], env)
    expect(flushed.code, flushed.stderr).toBe(0)
    expect(flushed.stderr).toContain("sent 230 events that waited")
    const all = xmon(["store", "export", "--bucket", "recon-scan", "--store", `sqlite:${db}`], env).stdout.trim().split("\n")
    expect(all).toHaveLength(330)
    expect(new Set(all.map((l) => JSON.parse(l).event_id)).size).toBe(330)
    expect(all.map((l) => JSON.parse(l).event_id)).toEqual(lines.map((l) => JSON.parse(l).event_id))
  })
})
