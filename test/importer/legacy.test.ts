import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Layer, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll } from "vitest"
import type { StoredEvent } from "../../src/events/envelope.js"
import { SCAN_BUCKET } from "../../src/events/envelope.js"
import { decodeStored } from "../../src/evaluate/decode.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import { rules } from "../../src/evaluate/rules/index.js"
import { legacyEvent } from "../../src/importer/legacy-events.js"
import { importLegacy } from "../../src/importer/legacy.js"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { page } from "./repo.js"

const root = mkdtempSync(join(tmpdir(), "xmon-legacy-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const output = join(root, "output")
const pages: Record<string, string> = {
  "domains/example-cz.md": page("_type: domain\nid: example-cz\nname: example.cz"),
  "hostnames/www.md": page("_type: hostname\nid: www\nhostname: www.example.cz"),
  "hostnames/gone.md": page("_type: hostname\nid: gone\nhostname: gone.example.cz"),
  "ipv4s/ip1.md": page("_type: ipv4\nip: 192.0.2.1"),
  "ipv4s/ip2.md": page("_type: ipv4\nip: 192.0.2.2"),
  "ipv4s/ip3.md": page("_type: ipv4\nip: 192.0.2.3"),
  "portscans/ck1.md": page("_type: portscan\nip: 192.0.2.1\nport: 443\nhostname: www.example.cz"),
}
for (const [rel, text] of Object.entries(pages)) {
  mkdirSync(dirname(join(output, rel)), { recursive: true })
  writeFileSync(join(output, rel), text)
}

const D1 = "2024-04-16T13:00:00.000Z"
const D2 = "2024-04-26T13:00:00.000Z"
const ADAPTER = { source: "ezrecon", adapter_version: "1.0" }

/** What the original's `umrath_adapter.rb` left in bucket `recon`, stream by stream. */
const legacyHistory: ReadonlyArray<readonly [string, string, ReadonlyArray<readonly [string, string, Record<string, unknown>]>]> = [
  ["Domain", "example-cz", [
    ["legacy-d1", "DomainScanned", { domain_id: "example-cz", domain_name: "example.cz", nameservers: ["a.ns.example.net", "b.ns.example.net"], registrant: "OWNER-1", registrar: "REG-A", expires: "2027-01-01", status: "server_transfer_prohibited", scanned_at: D1 }],
    ["legacy-d2", "DomainExpiring", { domain_id: "example-cz", domain_name: "example.cz", expires: "2027-01-01", days_remaining: 3, detected_at: D1 }],
    ["legacy-d3", "DomainScanned", { domain_id: "example-cz", domain_name: "example.cz", nameservers: ["a.ns.example.net", "c.ns.example.net"], registrant: "OWNER-1", registrar: "REG-A", expires: "2027-01-01", status: null, scanned_at: D2 }],
  ]],
  ["NetworkHost", "www", [
    ["legacy-h1", "HostnameResolved", { hostname_id: "www", hostname: "www.example.cz", addresses: ["192.0.2.1"], status: "up", resolved_at: D1 }],
    ["legacy-h2", "HostnameResolved", { hostname_id: "www", hostname: "www.example.cz", addresses: ["192.0.2.1", "192.0.2.9"], status: "up", previous_addresses: ["192.0.2.1"], resolved_at: D2 }],
  ]],
  ["NetworkHost", "gone", [
    ["legacy-h3", "HostnameResolved", { hostname_id: "gone", hostname: "gone.example.cz", addresses: [], status: "nxdomain", resolved_at: D2 }],
  ]],
  ["NetworkAddress", "ip1", [
    ["legacy-a1", "AddressScanned", { ipv4_id: "ip1", ip: "192.0.2.1", ptr: "www.example.cz", port_443_status: "ok", scanned_at: D1 }],
    ["legacy-a2", "AddressScanned", { ipv4_id: "ip1", ip: "192.0.2.1", ptr: ["a.example.cz", "b.example.cz"], port_443_status: "unknown", scanned_at: D2 }],
  ]],
  ["NetworkAddress", "ip2", [
    ["legacy-a3", "AddressScanned", { ipv4_id: "ip2", ip: "192.0.2.2", port_443_status: "refused", scanned_at: D2 }],
  ]],
  ["PortScan", "ck1", [
    ["legacy-p1", "CertificateDiscovered", { scan_id: "ck1", ip: "192.0.2.1", port: 443, hostname: "www.example.cz", cert_serial: "0A1B", cert_subject: "www.example.cz", cert_not_after: "2027-06-01", altnames: ["example.cz"], server: "nginx", status_code: 200, discovered_at: D1 }],
    ["legacy-p2", "CertificateChanged", { scan_id: "ck1", old_cert_serial: "0A1B", new_cert_serial: "0C2D", changed_at: D2 }],
    ["legacy-p3", "CertificateDiscovered", { scan_id: "ck1", ip: "192.0.2.1", port: 443, hostname: "www.example.cz", cert_serial: "0C2D", altnames: [], discovered_at: D2 }],
  ]],
  // no page names this stream: it is not found (the protocol cannot list streams)
  ["Domain", "orphan", [["legacy-o1", "DomainScanned", { domain_name: "orphan.cz", nameservers: ["x"], scanned_at: D1 }]]],
]

const seed = Effect.gen(function* () {
  const store = yield* EventStore
  for (const [type, id, events] of legacyHistory) {
    yield* store.append(
      { bucket: "recon", aggregate_type: type, aggregate_id: id },
      events.map(([event_id, event_type, payload]) => ({ event_id, event_type, payload, metadata: ADAPTER })),
    )
  }
})

let dbCount = 0
const seededStore = () => {
  const layer = SqliteEventStore.layer(join(root, `events-${++dbCount}.db`))
  return Layer.effectDiscard(seed).pipe(Layer.provideMerge(layer))
}

const expectedId = (legacyId: string, type: string) => {
  const h = createHash("sha256").update(`legacy:${legacyId}:${type}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

const scanBucket = Effect.gen(function* () {
  const store = yield* EventStore
  return Chunk.toReadonlyArray(yield* Stream.runCollect(store.readBucket(SCAN_BUCKET, 0)))
})

const byLegacyId = (events: ReadonlyArray<StoredEvent>, legacyId: string) =>
  events.find((e) => e.metadata["legacy_event_id"] === legacyId)

describe("import-legacy", () => {
  it.effect("maps each legacy type to its raw event, in time order, with ids from the legacy ids", () =>
    Effect.gen(function* () {
      const result = yield* importLegacy({ outputDir: output })
      expect(result).toMatchObject({ dry_run: false, streams: 7, legacy_events: 12, planned: 9, stored: 9, duplicates: 0 })
      expect(result.by_type).toEqual({ DomainScanResult: 2, HostnameScanResult: 3, TlsScanResult: 4 })
      expect(result.skipped).toEqual({ DomainExpiring: 1, AddressScanned: 1, CertificateChanged: 1 })

      const stored = yield* scanBucket
      expect(stored.map((e) => e.payload["scanned_at"])).toEqual([D1, D1, D1, D1, D2, D2, D2, D2, D2])
      expect(stored.map((e) => `${e.aggregate_type}/${e.aggregate_id}`)).toEqual([
        "DomainScan/example-cz",
        "HostnameScan/www",
        "TlsScan/ck1",
        "TlsScan/ipv4-ip1-443",
        "DomainScan/example-cz",
        "HostnameScan/gone",
        "HostnameScan/www",
        "TlsScan/ck1",
        "TlsScan/ipv4-ip2-443",
      ])
      for (const e of stored) {
        expect(e.event_id).toBe(expectedId(String(e.metadata["legacy_event_id"]), e.event_type))
        expect(e.metadata).toMatchObject({ source: "ezrecon", layer: "scan", version: "1.0" })
      }
      expect(byLegacyId(stored, "legacy-d1")?.payload).toEqual({
        domain_name: "example.cz",
        nameservers: ["a.ns.example.net", "b.ns.example.net"],
        registrant: "OWNER-1",
        registrar: "REG-A",
        expires: "2027-01-01",
        rdap_status: "server_transfer_prohibited",
        scanned_at: D1,
      })
      expect(byLegacyId(stored, "legacy-d1")?.metadata["legacy_stream"]).toBe("recon/Domain/example-cz")
      expect(byLegacyId(stored, "legacy-h1")?.payload).toEqual({
        hostname: "www.example.cz",
        addresses: ["192.0.2.1"],
        dns_status: "ok",
        scanned_at: D1,
      })
      expect(byLegacyId(stored, "legacy-h3")?.payload).toMatchObject({ addresses: [], dns_status: "nxdomain" })
      expect(byLegacyId(stored, "legacy-a1")?.payload).toEqual({ ip: "192.0.2.1", port: 443, tls_status: "ok", scanned_at: D1 })
      expect(byLegacyId(stored, "legacy-a3")?.payload).toMatchObject({ tls_status: "refused" })
      expect(byLegacyId(stored, "legacy-p1")?.payload).toEqual({
        ip: "192.0.2.1",
        port: 443,
        hostname: "www.example.cz",
        cert_serial: "0A1B",
        cert_subject: "www.example.cz",
        cert_not_after: "2027-06-01",
        altnames: ["example.cz"],
        server: "nginx",
        status_code: 200,
        tls_status: "ok",
        scanned_at: D1,
      })
      expect(byLegacyId(stored, "legacy-o1")).toBeUndefined()
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("adds nothing when run again", () =>
    Effect.gen(function* () {
      yield* importLegacy({ outputDir: output })
      const again = yield* importLegacy({ outputDir: output })
      expect(again).toMatchObject({ planned: 9, stored: 0, duplicates: 9 })
      expect((yield* scanBucket).length).toBe(9)
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("with --dry-run lists the events and appends nothing", () =>
    Effect.gen(function* () {
      const result = yield* importLegacy({ outputDir: output, dryRun: true })
      expect(result).toMatchObject({ dry_run: true, planned: 9, stored: 0 })
      expect(result.events?.map((e) => e.event.event_id)).toContain(expectedId("legacy-p3", "TlsScanResult"))
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("gives the fold the changes the legacy history holds", () =>
    Effect.gen(function* () {
      yield* importLegacy({ outputDir: output })
      const raw = (yield* scanBucket).map((e) => Either.getOrThrow(decodeStored(e))!)
      const seen = foldEvents(rules, raw).derived.map((d) => `${d.event_type} ${d.aggregate_type}/${d.aggregate_id}`)
      expect(seen).toContain("CertificateChanged Endpoint/ck1")
      expect(seen).toContain("HostnameAddressChanged Hostname/www")
      expect(seen).toContain("DomainNameserversChanged Domain/example-cz")
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("names the stream, event and field of a malformed legacy payload", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ bucket: "recon", aggregate_type: "NetworkHost", aggregate_id: "www" }, [
        { event_id: "legacy-bad", event_type: "HostnameResolved", payload: { hostname: "www.example.cz", addresses: "192.0.2.1", resolved_at: D2 }, metadata: ADAPTER },
      ])
      const error = yield* Effect.flip(importLegacy({ outputDir: output }))
      expect(error._tag).toBe("LegacyEventError")
      if (error._tag === "LegacyEventError") {
        expect(error.stream).toBe("recon/NetworkHost/www")
        expect(error.event_id).toBe("legacy-bad")
        expect(error.reason).toContain("addresses")
      }
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("stops at a port that is not a number, naming it, rather than append what evaluate cannot read", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ bucket: "recon", aggregate_type: "PortScan", aggregate_id: "ck1" }, [
        { event_id: "legacy-https", event_type: "CertificateDiscovered", payload: { ip: "192.0.2.1", port: "https", cert_serial: "0E3F", discovered_at: D2 }, metadata: ADAPTER },
      ])
      const error = yield* Effect.flip(importLegacy({ outputDir: output }))
      expect(error._tag).toBe("LegacyEventError")
      if (error._tag === "LegacyEventError") {
        expect(error.stream).toBe("recon/PortScan/ck1")
        expect(error.event_id).toBe("legacy-https")
        expect(error.field).toBe("port")
        expect(error.message).toContain("port")
        expect(error.message).toContain('"https"')
      }
      expect((yield* scanBucket).length).toBe(0)
    }).pipe(Effect.provide(seededStore())),
  )

  it.effect("writes only events the fold can decode, a port given as text included", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ bucket: "recon", aggregate_type: "PortScan", aggregate_id: "ck1" }, [
        { event_id: "legacy-text-port", event_type: "CertificateDiscovered", payload: { ip: "192.0.2.1", port: "8443", cert_serial: "0E3F", discovered_at: D2 }, metadata: ADAPTER },
      ])
      yield* importLegacy({ outputDir: output })
      const stored = yield* scanBucket
      expect(byLegacyId(stored, "legacy-text-port")?.payload["port"]).toBe(8443)
      for (const e of stored) expect(Either.isRight(decodeStored(e))).toBe(true)
    }).pipe(Effect.provide(seededStore())),
  )
})

describe("legacyEvent", () => {
  const stored = (event_type: string, payload: Record<string, unknown>, aggregate_type = "PortScan"): StoredEvent => ({
    bucket: "recon",
    aggregate_type,
    aggregate_id: "x",
    event_id: "e1",
    event_type,
    payload,
    metadata: {},
    position: 1,
    global_position: 1,
    recorded_at: "2024-01-02T03:04:05.000Z",
  })
  it("calls a certificate scan without a serial unknown, and takes the store's time when the payload has none", () => {
    const r = Either.getOrThrow(legacyEvent(stored("CertificateDiscovered", { ip: "192.0.2.1", port: 443, altnames: [] })))
    expect(Option.getOrThrow(r).event.payload).toEqual({
      ip: "192.0.2.1",
      port: 443,
      altnames: [],
      tls_status: "unknown",
      scanned_at: "2024-01-02T03:04:05.000Z",
    })
  })
  it("reads the stale nxdomain next to addresses as ok, and drops an empty nameserver list", () => {
    const h = Either.getOrThrow(legacyEvent(stored("HostnameResolved", { hostname: "h", addresses: ["192.0.2.1"], status: "nxdomain" }, "NetworkHost")))
    expect(Option.getOrThrow(h).event.payload["dns_status"]).toBe("ok")
    const d = Either.getOrThrow(legacyEvent(stored("DomainScanned", { domain_name: "d.cz", nameservers: [], scanned_at: "2024-01-01T00:00:00Z" }, "Domain")))
    expect(Option.getOrThrow(d).event.payload).toEqual({ domain_name: "d.cz", scanned_at: "2024-01-01T00:00:00Z" })
  })
  it("reads a port given as digits as a number, and refuses any other text", () => {
    const port = (value: unknown) =>
      legacyEvent(stored("CertificateDiscovered", { ip: "192.0.2.1", port: value, discovered_at: "2024-01-01T00:00:00Z" })).pipe(
        Either.map((r) => Option.getOrThrow(r).event.payload["port"]),
      )
    expect(port("8443")).toEqual(Either.right(8443))
    expect(port(8443)).toEqual(Either.right(8443))
    expect(port(null)).toEqual(Either.right(443))
    for (const bad of ["https", "", "443/tcp", "-1"]) {
      const r = port(bad)
      expect(Either.isLeft(r) && r.left.field === "port" && r.left.stream === "recon/PortScan/x" && r.left.event_id === "e1").toBe(true)
    }
  })
  it("writes a certificate's expiry as ISO 8601 when the adapter wrote a Ruby time", () => {
    const notAfter = (value: string) =>
      Option.getOrThrow(
        Either.getOrThrow(legacyEvent(stored("CertificateDiscovered", { ip: "192.0.2.1", cert_not_after: value, discovered_at: "2024-01-01T00:00:00Z" }))),
      ).event.payload["cert_not_after"]
    expect(notAfter("2027-06-01 12:00:00.000000000 Z")).toBe("2027-06-01T12:00:00.000Z")
    expect(notAfter("2027-06-01 12:00:00 +0200")).toBe("2027-06-01T12:00:00+02:00")
    expect(notAfter("2027-06-01")).toBe("2027-06-01")
  })
  it("rejects a timestamp that is not a date", () => {
    const r = legacyEvent(stored("CertificateDiscovered", { ip: "192.0.2.1", discovered_at: "yesterday" }))
    expect(Either.isLeft(r) && r.left.reason.includes("discovered_at")).toBe(true)
  })
})
