import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { historyEventId, pageEvent, snapshotEvents } from "../../src/importer/page-events.js"
import { isoTime } from "../../src/importer/payload.js"
import { parsePage } from "../../src/inventory/pages.js"

const snap = { commit: "abc1234", scannedAt: "2024-04-16T15:02:04+02:00" }
const pageOf = (file: string, yaml: string) => Either.getOrThrow(parsePage(file, `---\n${yaml}\n---\n`))
const eventOf = (file: string, yaml: string) => Option.getOrThrow(Either.getOrThrow(pageEvent(pageOf(file, yaml), snap)))
const noEvent = (file: string, yaml: string) => Option.isNone(Either.getOrThrow(pageEvent(pageOf(file, yaml), snap)))

describe("pageEvent", () => {
  it("names the event by entity, commit and type", () => {
    const e = eventOf("o/domains/d.md", "_type: domain\nid: d\nname: d.cz\nnameservers: ns.d.cz")
    expect(e.event.event_id).toBe(historyEventId("d", "abc1234", "DomainScanResult"))
    expect(e.event.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(e.event.payload["nameservers"]).toEqual(["ns.d.cz"])
    expect(e.event.metadata).toEqual({ source: "ezrecon", layer: "scan", version: "1.0", import_commit: "abc1234" })
  })

  it("records nothing for unscanned domains, ipv4 pages without a TLS scan, ranges and asns", () => {
    expect(noEvent("o/domains/d.md", "_type: domain\nname: d.cz")).toBe(true)
    expect(noEvent("o/ipv4s/i.md", "_type: ipv4\nip: 192.0.2.1\nstatus: :up")).toBe(true)
    expect(noEvent("o/ip_ranges/r.md", "_type: ip_range\ncidr: 192.0.2.0/24")).toBe(true)
    expect(noEvent("o/asns/a.md", "asn: AS1")).toBe(true)
  })

  it("reads a hostname's addresses from `addresses` when there is no `address`, and unknown when there are none", () => {
    expect(eventOf("o/hostnames/h.md", "_type: hostname\nhostname: h.cz\naddresses: [192.0.2.2]").event.payload).toMatchObject({
      addresses: ["192.0.2.2"],
      dns_status: "ok",
    })
    expect(eventOf("o/hostnames/h.md", "_type: hostname\nhostname: h.cz").event.payload).toMatchObject({
      addresses: [],
      dns_status: "unknown",
    })
    expect(eventOf("o/hostnames/h.md", "_type: hostname\nhostname: h.cz\ndns_status: :servfail").event.payload["dns_status"]).toBe("servfail")
  })

  it("leaves the stale certificate out of a failed TLS scan and defaults a portscan's port and status", () => {
    const failed = eventOf("o/portscans/p.md", "_type: portscan\nip: 192.0.2.1\nstatus: :timeout\ncert_sn: AA\nserver: nginx")
    expect(failed.event.payload).toEqual({ ip: "192.0.2.1", port: 443, tls_status: "timeout", scanned_at: snap.scannedAt })
    const unknown = eventOf("o/portscans/p.md", "_type: portscan\nip: 192.0.2.1\ncert_sn: AA")
    expect(unknown.event.payload).toMatchObject({ tls_status: "unknown", cert_serial: "AA", altnames: [] })
  })

  it("keeps an ipv4 scan's server, status code and altnames", () => {
    const e = eventOf(
      "o/ipv4s/abc.md",
      "_type: ipv4\nip: 192.0.2.1\np443_status: :ok\np443_cert_sn: AA\np443_server: Apache\np443_status_code: 301\np443_altnames: [a.cz]",
    )
    expect(e.stream.aggregate_id).toBe("ipv4-abc-443")
    expect(e.event.payload).toMatchObject({ server: "Apache", status_code: 301, altnames: ["a.cz"] })
    expect(e.event.payload["hostname"]).toBeUndefined()
  })

  it("fails naming the field when a scanned domain has no name, or a port is not a number", () => {
    const d = pageEvent(pageOf("o/domains/d.md", "_type: domain\nnameservers: [a]"), snap)
    expect(Either.isLeft(d) && d.left.field === "name" && d.left.file === "o/domains/d.md").toBe(true)
    const p = pageEvent(pageOf("o/portscans/p.md", "_type: portscan\nip: 192.0.2.1\nport: https"), snap)
    expect(Either.isLeft(p) && p.left.field === "port" && p.left.line === 4).toBe(true)
  })
})

describe("snapshotEvents", () => {
  it("orders a snapshot's events by aggregate type, then id: the order an Umrath store merges ties in", () => {
    const pages = [
      pageOf("o/ipv4s/i.md", "_type: ipv4\nip: 192.0.2.1\np443_status: :refused"),
      pageOf("o/portscans/p.md", "_type: portscan\nip: 192.0.2.1"),
      pageOf("o/hostnames/b.md", "_type: hostname\nhostname: b.cz"),
      pageOf("o/hostnames/a.md", "_type: hostname\nhostname: a.cz"),
      pageOf("o/domains/d.md", "_type: domain\nname: d.cz\nnameservers: [x]"),
    ]
    const ids = Either.getOrThrow(snapshotEvents(pages, snap)).map((e) => `${e.stream.aggregate_type}/${e.stream.aggregate_id}`)
    expect(ids).toEqual(["DomainScan/d", "HostnameScan/a", "HostnameScan/b", "TlsScan/ipv4-i-443", "TlsScan/p"])
  })
})

describe("isoTime", () => {
  it("turns Ruby's Time text into ISO 8601 and leaves other text alone", () => {
    expect(isoTime("2025-06-01 12:00:00.123456789 Z")).toBe("2025-06-01T12:00:00.123Z")
    expect(isoTime("2025-06-01 12:00:00 +0200")).toBe("2025-06-01T12:00:00+02:00")
    expect(isoTime("2025-06-01 12:00:00 UTC")).toBe("2025-06-01T12:00:00Z")
    expect(isoTime("2025-06-01T12:00:00Z")).toBe("2025-06-01T12:00:00Z")
    expect(isoTime("Jun  1 12:00:00 2025 GMT")).toBe("Jun  1 12:00:00 2025 GMT")
  })
})
