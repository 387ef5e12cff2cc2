import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Layer, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { SCAN_BUCKET, streamKey } from "../../src/events/envelope.js"
import { decodeStored } from "../../src/evaluate/decode.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import { rules } from "../../src/evaluate/rules/index.js"
import { importHistory, parseSnapshotSpec } from "../../src/importer/history.js"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { snapshot1, snapshot2, snapshot3, T1, T2, T3 } from "./history-fixture.js"
import { makePageRepo, page } from "./repo.js"

const root = mkdtempSync(join(tmpdir(), "xmon-history-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const repo = makePageRepo(join(root, "output"))
const c1 = repo.commit(snapshot1, "initial scan")
const c2 = repo.commit(snapshot2, "refined scan")
const c3 = repo.commit(snapshot3, "rescan")
const snapshots = [
  { commit: c1, scannedAt: T1 },
  { commit: c2, scannedAt: T2 },
  { commit: c3, scannedAt: T3 },
]

let dbCount = 0
const freshStore = () => Layer.merge(SqliteEventStore.layer(join(root, `events-${++dbCount}.db`)), NodeContext.layer)

/** The original's formula, written out here rather than imported. */
const expectedId = (entity: string, commit: string, type: string) => {
  const h = createHash("sha256").update(`${entity}:${commit}:${type}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

const scanBucket = Effect.gen(function* () {
  const store = yield* EventStore
  return Chunk.toReadonlyArray(yield* Stream.runCollect(store.readBucket(SCAN_BUCKET, 0)))
})

const ENTITIES = [
  ["DomainScan", "example-cz", "DomainScanResult"],
  ["HostnameScan", "gone", "HostnameScanResult"],
  ["HostnameScan", "www", "HostnameScanResult"],
  ["TlsScan", "ck1", "TlsScanResult"],
  ["TlsScan", "ipv4-ip1-443", "TlsScanResult"],
] as const

describe("import-history", () => {
  it.effect("appends each snapshot's scans, in snapshot order, with the original's ids", () =>
    Effect.gen(function* () {
      const result = yield* importHistory({ repo: repo.dir, snapshots })
      expect(result.planned).toBe(15)
      expect(result.stored).toBe(15)
      expect(result.duplicates).toBe(0)
      expect(result.by_type).toEqual({ DomainScanResult: 3, HostnameScanResult: 6, TlsScanResult: 6 })
      expect(result.snapshots.map((s) => [s.commit, s.pages, s.events])).toEqual([
        [c1, 8, 5],
        [c2, 8, 5],
        [c3, 8, 5],
      ])

      const stored = yield* scanBucket
      expect(stored.map((e) => e.payload["scanned_at"])).toEqual([...Array(5).fill(T1), ...Array(5).fill(T2), ...Array(5).fill(T3)])
      const expected = snapshots.flatMap((s) =>
        ENTITIES.map(([type, id, eventType]) => `${type}/${id} ${expectedId(id, s.commit, eventType)}`),
      )
      expect(stored.map((e) => `${e.aggregate_type}/${e.aggregate_id} ${e.event_id}`).sort()).toEqual(expected.sort())
      // the original's order within a snapshot: domains, hostnames, portscans, ipv4s
      expect(stored.slice(0, 5).map((e) => `${e.aggregate_type}/${e.aggregate_id}`)).toEqual([
        "DomainScan/example-cz",
        "HostnameScan/gone",
        "HostnameScan/www",
        "TlsScan/ck1",
        "TlsScan/ipv4-ip1-443",
      ])
      for (const e of stored) {
        expect(e.metadata).toMatchObject({ source: "ezrecon", layer: "scan", version: "1.0" })
        expect([c1, c2, c3]).toContain(e.metadata["import_commit"])
      }

      const at = (commit: string, stream: string) =>
        stored.find((e) => e.metadata["import_commit"] === commit && `${e.aggregate_type}/${e.aggregate_id}` === stream)!.payload
      expect(at(c1, "DomainScan/example-cz")).toEqual({
        domain_name: "example.cz",
        nameservers: ["a.ns.example.net", "b.ns.example.net"],
        registrant: "OWNER-1",
        registrar: "REG-A",
        expires: "2027-01-01",
        rdap_status: "server_transfer_prohibited",
        scanned_at: T1,
      })
      expect(at(c1, "HostnameScan/www")).toEqual({ hostname: "www.example.cz", addresses: ["192.0.2.1"], dns_status: "ok", scanned_at: T1 })
      expect(at(c2, "HostnameScan/gone")).toEqual({ hostname: "gone.example.cz", addresses: [], dns_status: "nxdomain", scanned_at: T2 })
      // the stale `status: :nxdomain` next to an address means the name resolves again
      expect(at(c3, "HostnameScan/gone")).toMatchObject({ addresses: ["192.0.2.7"], dns_status: "ok" })
      expect(at(c1, "TlsScan/ck1")).toEqual({
        ip: "192.0.2.1",
        port: 443,
        hostname: "www.example.cz",
        cert_serial: "0A1B",
        cert_subject: "www.example.cz",
        cert_not_after: "2027-06-01T12:00:00.000Z",
        altnames: ["example.cz"],
        server: "nginx",
        status_code: 200,
        tls_status: "ok",
        scanned_at: T1,
      })
      expect(at(c1, "TlsScan/ipv4-ip1-443")).toEqual({
        ip: "192.0.2.1",
        port: 443,
        cert_serial: "0A1B",
        cert_subject: "www.example.cz",
        tls_status: "ok",
        scanned_at: T1,
      })
      // a refused scan does not repeat the certificate the page still shows
      expect(at(c2, "TlsScan/ipv4-ip1-443")).toEqual({ ip: "192.0.2.1", port: 443, tls_status: "refused", scanned_at: T2 })
      // `!ruby/symbol ok` reads as `ok`
      expect(at(c3, "TlsScan/ipv4-ip1-443")).toMatchObject({ tls_status: "ok", cert_serial: "0A1B" })
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("appends nothing the second time", () =>
    Effect.gen(function* () {
      const first = yield* importHistory({ repo: repo.dir, snapshots })
      const second = yield* importHistory({ repo: repo.dir, snapshots })
      expect(first.stored).toBe(15)
      expect(second).toMatchObject({ planned: 15, stored: 0, duplicates: 15 })
      expect((yield* scanBucket).length).toBe(15)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("with --dry-run lists what it would append and appends nothing", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const result = yield* importHistory({
        repo: repo.dir,
        snapshots,
        dryRun: true,
        progress: (line) => Effect.sync(() => lines.push(line)),
      })
      expect(result).toMatchObject({ dry_run: true, planned: 15, stored: 0, duplicates: 0 })
      expect(result.events?.map((e) => e.event.event_id)).toContain(expectedId("ck1", c2, "TlsScanResult"))
      expect(result.events?.[0] && streamKey(result.events[0].stream)).toBe("recon-scan/DomainScan/example-cz")
      expect(lines).toHaveLength(3)
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("appends snapshots given out of order in time order", () =>
    Effect.gen(function* () {
      yield* importHistory({ repo: repo.dir, snapshots: [snapshots[2]!, snapshots[0]!, snapshots[1]!] })
      const times = (yield* scanBucket).map((e) => Date.parse(String(e.payload["scanned_at"])))
      expect(times).toEqual([...times].sort((a, b) => a - b))
      expect(new Set(times).size).toBe(3)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("uses the commit as the user wrote it in the ids (the original's short hashes), and reads the pages at the full id", () =>
    Effect.gen(function* () {
      const short = c1.slice(0, 7)
      const result = yield* importHistory({ repo: repo.dir, snapshots: [{ commit: short, scannedAt: T1 }], dryRun: true })
      expect(result.events?.map((e) => e.event.event_id)).toContain(expectedId("www", short, "HostnameScanResult"))
      expect(result.events?.[0]?.event.metadata["import_commit"]).toBe(short)
      expect(result.snapshots).toEqual([{ commit: short, resolved_commit: c1, scanned_at: T1, pages: 8, events: 5 }])
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("finds the changes between the commits when the history is folded", () =>
    Effect.gen(function* () {
      yield* importHistory({ repo: repo.dir, snapshots })
      const raw = (yield* scanBucket).map((e) => Either.getOrThrow(decodeStored(e))!)
      const derived = foldEvents(rules, raw).derived
      const seen = derived.map((d) => `${d.event_type} ${d.aggregate_type}/${d.aggregate_id}`)
      expect(seen.filter((s) => !s.startsWith("SharedCertificateDetected"))).toEqual([
        // snapshot 2
        "DomainNameserversChanged Domain/example-cz",
        "HostnameAddressChanged Hostname/gone",
        "HostnameBecameUnreachable Hostname/gone",
        "HostnameAddressChanged Hostname/www",
        "CertificateChanged Endpoint/ck1",
        "EndpointBecameUnreachable Endpoint/ipv4-ip1-443",
        // snapshot 3 (no address change for gone: its previous set was empty)
        "HostnameRecovered Hostname/gone",
        "EndpointBecameReachable Endpoint/ipv4-ip1-443",
      ])
      const change = derived.find((d) => d.event_type === "CertificateChanged")!
      expect(change.payload).toMatchObject({ old_cert_serial: "0A1B", new_cert_serial: "0C2D", detected_at: T2 })
      expect(change.payload["source_event_id"]).toBe(expectedId("ck1", c2, "TlsScanResult"))
      const moved = derived.find((d) => d.event_type === "HostnameAddressChanged" && d.aggregate_id === "www")!
      expect(moved.payload).toMatchObject({ added_addresses: ["192.0.2.9"], removed_addresses: [], detected_at: T2 })
      expect(seen).toContain("SharedCertificateDetected Certificate/0A1B")
    }).pipe(Effect.provide(freshStore())),
  )
})

describe("import-history errors", () => {
  const bad = makePageRepo(join(root, "bad"))
  const good = bad.commit(snapshot1, "good")
  const broken = bad.commit(
    { "portscans/zz.md": page("_type: portscan\nip: 192.0.2.3\nport:\n- 443\n- 8443\nstatus: :ok") },
    "a portscan page with a list for a port",
  )
  const unparsable = bad.commit({ "portscans/zz.md": page("_type: portscan\nip: [192.0.2.3\nport: 443") }, "bad yaml")

  it.effect("names the file, line and field of a bad page, and appends nothing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        importHistory({ repo: bad.dir, snapshots: [{ commit: good, scannedAt: T1 }, { commit: broken, scannedAt: T2 }] }),
      )
      expect(error._tag).toBe("PageFieldError")
      if (error._tag === "PageFieldError") {
        expect(error.file).toBe(`${broken}:portscans/zz.md`)
        expect(error.field).toBe("port")
        expect(error.line).toBe(4)
      }
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("names the file and line of unparsable YAML", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(importHistory({ repo: bad.dir, snapshots: [{ commit: unparsable, scannedAt: T1 }] }))
      expect(error._tag).toBe("PageParseError")
      expect(error._tag === "PageParseError" && error.file).toBe(`${unparsable}:portscans/zz.md`)
      expect(error._tag === "PageParseError" && error.line).toBeGreaterThanOrEqual(3)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("refuses HEAD, a branch or any other ref before reading anything: they move, and the same ids would name other scans", () =>
    Effect.gen(function* () {
      for (const commit of ["HEAD", "master", "HEAD~1", `${good}~1`, good.toUpperCase()]) {
        const error = yield* Effect.flip(importHistory({ repo: bad.dir, snapshots: [{ commit: good, scannedAt: T1 }, { commit, scannedAt: T2 }] }))
        expect(error._tag).toBe("SnapshotSpecError")
        expect(error.message).toContain("pass a commit hash")
      }
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("refuses a short hash that git resolves through a branch of that name, not to the commit", () =>
    Effect.gen(function* () {
      const shadowed = makePageRepo(join(root, "shadowed"))
      const first = shadowed.commit(snapshot1, "first")
      const second = shadowed.commit(snapshot2, "second")
      // a branch named like the first commit's short hash, pointing at the second commit
      execFileSync("git", ["-C", shadowed.dir, "branch", first.slice(0, 7), second], { timeout: 10_000 })
      const error = yield* Effect.flip(importHistory({ repo: shadowed.dir, snapshots: [{ commit: first.slice(0, 7), scannedAt: T1 }] }))
      expect(error._tag).toBe("SnapshotSpecError")
      expect(error.message).toContain(second)
      expect((yield* scanBucket).length).toBe(0)
      // the full hash is the commit itself
      const full = yield* importHistory({ repo: shadowed.dir, snapshots: [{ commit: first, scannedAt: T1 }] })
      expect(full.snapshots[0]?.resolved_commit).toBe(first)
      expect(full.stored).toBe(5)
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("fails with a GitError for a commit the repository does not have", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(importHistory({ repo: bad.dir, snapshots: [{ commit: "deadbeef", scannedAt: T1 }] }))
      expect(error._tag).toBe("GitError")
      expect(error.message).toContain("deadbeef")
    }).pipe(Effect.provide(freshStore())),
  )

  it.effect("fails with a GitError outside a repository", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(importHistory({ repo: root, snapshots: [{ commit: "deadbeef", scannedAt: T1 }] }))
      expect(error._tag).toBe("GitError")
    }).pipe(Effect.provide(freshStore())),
  )
})

describe("parseSnapshotSpec", () => {
  it("splits COMMIT@ISO_TIME at the last @", () => {
    expect(Either.getOrThrow(parseSnapshotSpec("f9edbf8@2024-04-16T15:02:04+02:00"))).toEqual({
      commit: "f9edbf8",
      scannedAt: "2024-04-16T15:02:04+02:00",
    })
    const full = "f9edbf8a3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f"
    expect(Either.getOrThrow(parseSnapshotSpec(`${full}@2024-04-16T13:02:04Z`)).commit).toBe(full)
  })
  it("refuses a ref for the commit, saying to pass a commit hash", () => {
    for (const spec of [
      "HEAD@2024-04-16T13:02:04Z",
      "main@2024-04-16T13:02:04Z",
      "main@{1}@2024-04-16T13:02:04Z",
      "f9edbf8~1@2024-04-16T13:02:04Z",
      "f9edbf@2024-04-16T13:02:04Z",
      "F9EDBF8@2024-04-16T13:02:04Z",
      `${"a".repeat(41)}@2024-04-16T13:02:04Z`,
    ]) {
      const r = parseSnapshotSpec(spec)
      expect(Either.isLeft(r) && r.left._tag === "SnapshotSpecError" && r.left.spec === spec).toBe(true)
      expect(Either.isLeft(r) && r.left.message).toContain("pass a commit hash")
    }
  })
  it("rejects a missing commit, a missing time, a time without a zone, and a non-date", () => {
    for (const spec of ["@2024-04-16T15:02:04Z", "f9edbf8", "f9edbf8@", "f9edbf8@2024-04-16T15:02:04", "f9edbf8@yesterday"]) {
      const r = parseSnapshotSpec(spec)
      expect(Either.isLeft(r) && r.left._tag === "SnapshotSpecError" && r.left.spec === spec).toBe(true)
    }
  })
})
