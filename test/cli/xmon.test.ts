// The built program as a user runs it: exit codes, stdout for results, stderr for the rest.
import { spawnSync } from "node:child_process"
import { appendFileSync, copyFileSync, existsSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { tempDir } from "../support/stores.js"

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url))
const HISTORY = fileURLToPath(new URL("../../fixtures/history.jsonl", import.meta.url))
const temp = tempDir("xmon-cli-")

const xmon = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", UMRATH_URL: "", ...env },
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A store holding the fixture history, imported through the CLI. */
const withHistory = () => {
  const db = temp.file()
  const imported = xmon(["store", "import", HISTORY, "--store", `sqlite:${db}`, "--json"])
  expect(imported.code, imported.stderr).toBe(0)
  expect(JSON.parse(imported.stdout)).toMatchObject({ lines: 330, stored: 330, duplicates: 0 })
  return db
}

describe("xmon (built CLI)", () => {
  it("evaluate --json prints the counts; a second run finds nothing new; events lists what changed", () => {
    const db = withHistory()
    const first = xmon(["evaluate", "--store", `sqlite:${db}`, "--json"])
    expect(first.code, first.stderr).toBe(0)
    const summary = JSON.parse(first.stdout)
    expect(summary).toMatchObject({ mode: "full", raw_events: 330, duplicates: 0 })
    expect(summary.derived.DomainNameserversChanged).toBe(2)
    const second = JSON.parse(xmon(["evaluate", "--store", `sqlite:${db}`, "--json"]).stdout)
    expect(second).toMatchObject({ mode: "incremental", new_raw_events: 0, stored: 0 })

    const table = xmon(["events", "--store", `sqlite:${db}`, "--type", "DomainNameserversChanged"])
    expect(table.code).toBe(0)
    expect(table.stdout.trim().split("\n")).toHaveLength(2)
    expect(table.stdout).toContain("nsmove.example: nameservers ns1.old-dns.example, ns2.old-dns.example -> ns1.new-dns.example")

    const lines = xmon(["events", "--store", `sqlite:${db}`, "--format", "jsonl", "--entity", "walk-example", "--since", "2025-04-01T00:00:00Z"])
    const events = lines.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(events.length).toBeGreaterThan(0)
    for (const e of events) {
      expect(e.aggregate_id).toBe("walk-example")
      expect(Date.parse(e.payload.detected_at)).toBeGreaterThanOrEqual(Date.parse("2025-04-01T00:00:00Z"))
    }
    expect(events.map((e) => e.event_type)).toContain("DomainExpired")
  })

  it("store export | import into a fresh store round-trips every event", () => {
    const db = withHistory()
    expect(xmon(["evaluate", "--store", `sqlite:${db}`]).code).toBe(0)
    const exported = xmon(["store", "export", "--store", `sqlite:${db}`])
    expect(exported.code).toBe(0)
    const file = temp.file("export.jsonl")
    writeFileSync(file, exported.stdout)
    const copy = temp.file()
    const imported = JSON.parse(xmon(["store", "import", file, "--store", `sqlite:${copy}`, "--json"]).stdout)
    const lines = exported.stdout.trim().split("\n")
    expect(imported).toMatchObject({ lines: lines.length, stored: lines.length })
    expect(xmon(["store", "export", "--store", `sqlite:${copy}`]).stdout.split("\n").map(stripStoreFields)).toEqual(
      lines.concat("").map(stripStoreFields),
    )
  })

  it("a raw event that fails its schema: exit 2 naming bucket, stream, position and field; --skip-invalid goes on", () => {
    const db = withHistory()
    const bad = temp.file("bad.jsonl")
    appendFileSync(
      bad,
      `${JSON.stringify({ bucket: "recon-scan", aggregate_type: "TlsScan", aggregate_id: "ipv4-192-0-2-50-443", event_id: "bad-1", event_type: "TlsScanResult", payload: { port: "443", scanned_at: "2025-05-01T00:00:00Z" }, metadata: {} })}\n`,
    )
    expect(xmon(["store", "import", bad, "--store", `sqlite:${db}`]).code).toBe(0)
    const failed = xmon(["evaluate", "--store", `sqlite:${db}`])
    expect(failed.code).toBe(2)
    expect(failed.stdout).toBe("")
    expect(failed.stderr).toMatch(/recon-scan\/TlsScan\/ipv4-192-0-2-50-443 at position \d+/)
    expect(failed.stderr).toContain("payload.port")
    const skipped = xmon(["evaluate", "--store", `sqlite:${db}`, "--skip-invalid", "--json"])
    expect(skipped.code).toBe(0)
    expect(JSON.parse(skipped.stdout)).toMatchObject({ skipped_invalid: 1, raw_events: 330 })
  })

  it("a bad import line: exit 2 naming file, line and field, nothing appended", () => {
    const db = temp.file()
    const file = temp.file("broken.jsonl")
    copyFileSync(HISTORY, file)
    appendFileSync(file, '{"bucket":"recon-scan","aggregate_type":"DomainScan","event_id":"x","event_type":"DomainScanResult","payload":{},"metadata":{}}\n')
    const r = xmon(["store", "import", file, "--store", `sqlite:${db}`])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${file}:331: aggregate_id`)
    expect(xmon(["store", "export", "--store", `sqlite:${db}`]).stdout).toBe("")
  })

  it("handle prints the worker answer as JSON and exits 1 on a failure answer", () => {
    const db = withHistory()
    const ok = xmon(["handle", "ezrecon.evaluate", '{ "replay": true }', "--store", `sqlite:${db}`])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ success: true, result: { mode: "replay", raw_events: 330 } })
    const unknown = xmon(["handle", "ezrecon.scan_domains", "--store", `sqlite:${db}`])
    expect(unknown.code).toBe(1)
    expect(JSON.parse(unknown.stdout)).toMatchObject({ success: false, failure: { code: "unknown_command" } })
    const notJson = xmon(["handle", "ezrecon.evaluate", "{replay", "--store", `sqlite:${db}`])
    expect(notJson.code).toBe(1)
    expect(JSON.parse(notJson.stdout)).toMatchObject({ success: false, failure: { code: "evaluate_failed", details: { error_class: "InvalidPayload" } } })
  })

  it("handle answers an unknown command as such, without opening a store; store serve only serves the embedded store", () => {
    const missing = `${temp.dir}/absent/events.db`
    const unknown = xmon(["handle", "ezrecon.scan_domains", "--store", `sqlite:${missing}`])
    expect(unknown.code).toBe(1)
    expect(JSON.parse(unknown.stdout)).toMatchObject({ success: false, failure: { code: "unknown_command" } })
    expect(existsSync(missing)).toBe(false)
    const serve = xmon(["store", "serve", "--store", "umrath:http://127.0.0.1:9"])
    expect(serve.code).toBe(2)
    expect(serve.stderr).toContain("expected sqlite:PATH")
  })

  it("usage errors exit 2 and say what is wrong; --help exits 0", () => {
    expect(xmon(["evaluate", "--store", "postgres://x"])).toMatchObject({ code: 2 })
    expect(xmon(["evaluate", "--store", "postgres://x"]).stderr).toContain("expected sqlite:PATH or umrath:URL")
    expect(xmon(["evaluate", "--expiry-thresholds", "30,soon"]).stderr).toContain("--expiry-thresholds")
    expect(xmon(["evaluate", "--no-such-flag"]).code).toBe(2)
    const help = xmon(["evaluate", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--replay")
    expect(help.stdout).not.toContain("\u001b[")
  })

  it("reading commands do not create a store at a mistyped path: exit 2, path named, nothing created", () => {
    const missing = `${temp.dir}/no-such-dir/events.db`
    for (const args of [["evaluate"], ["events"], ["store", "export"], ["handle", "ezrecon.evaluate"]]) {
      const r = xmon([...args, "--store", `sqlite:${missing}`])
      if (args[0] === "handle") {
        expect(r.code).toBe(1)
        expect(JSON.parse(r.stdout)).toMatchObject({ success: false, failure: { details: { error_class: "NoStore" } } })
      } else {
        expect(r.code).toBe(2)
        expect(r.stderr).toContain(`no event store at ${missing}`)
      }
    }
    expect(existsSync(missing)).toBe(false)
  })

  it("a store file that is not an xmon store is refused, not overwritten (exit 1, path named)", () => {
    const file = temp.file("notes.txt")
    writeFileSync(file, "not a database, just notes\n".repeat(100))
    const r = xmon(["evaluate", "--store", `sqlite:${file}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(file)
  })
})

/** Export lines minus what each store assigns itself (recorded_at). */
function stripStoreFields(line: string): string {
  if (line === "") return line
  const { recorded_at: _r, ...rest } = JSON.parse(line)
  return JSON.stringify(rest)
}
