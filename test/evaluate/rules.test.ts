// Each rule on small hand-written histories, with the expected output worked out by hand.
import { describe, expect, it } from "@effect/vitest"
import type { DerivedEvent } from "../../src/events/derived.js"
import type { RawEvent } from "../../src/events/raw.js"
import { derivedEventId } from "../../src/evaluate/derive.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import type { Rule } from "../../src/evaluate/rule.js"
import { fingerprint } from "../../src/evaluate/rule.js"
import {
  certificateChanged,
  certificateExpiry,
  defaultRuleConfig,
  domainExpiry,
  domainNameserversChanged,
  endpointBecameReachable,
  endpointBecameUnreachable,
  hostnameAddressChanged,
  hostnameBecameUnreachable,
  hostnameRecovered,
  makeCertificateExpiry,
  makeDomainExpiry,
  makeRules,
  REMEMBERED_EXPIRY_VALUES,
  rules,
  sharedCertificateDetected,
} from "../../src/evaluate/rules/index.js"

// --- building histories -------------------------------------------------------------------------

const place = (aggregate_type: string, id: string, at: string) => ({
  event_id: `${aggregate_type}/${id}@${at}`,
  aggregate_type,
  aggregate_id: id,
  position: 0,
  global_position: 0,
  metadata: {},
})

const domainScan = (
  id: string,
  at: string,
  fields: { nameservers?: ReadonlyArray<string> | null; expires?: string | null } = {},
): RawEvent => ({
  ...place("DomainScan", id, at),
  event_type: "DomainScanResult",
  payload: { domain_name: `${id}.example`, scanned_at: at, ...fields },
})

const hostnameScan = (
  id: string,
  at: string,
  addresses: ReadonlyArray<string> | null,
  dns_status: string | null = "ok",
): RawEvent => ({
  ...place("HostnameScan", id, at),
  event_type: "HostnameScanResult",
  payload: { hostname: `${id}.example`, addresses, dns_status, scanned_at: at },
})

/** A TLS scan of endpoint `id`; `direct` endpoints (ipv4-…) have no hostname. */
const tlsScan = (
  id: string,
  at: string,
  fields: { tls_status?: string | null; cert_serial?: string | null; cert_not_after?: string | null } = {},
): RawEvent => ({
  ...place("TlsScan", id, at),
  event_type: "TlsScanResult",
  payload: {
    ip: "192.0.2.1",
    port: 443,
    hostname: id.startsWith("ipv4-") ? null : `${id}.example`,
    tls_status: "ok",
    scanned_at: at,
    ...fields,
  },
})

/** Day `n` of 2025 at the given time (UTC): `day(0)` is 2025-01-01. */
const day = (n: number, time = "00:00:00") => {
  const d = new Date(Date.UTC(2025, 0, 1 + n))
  return `${d.toISOString().slice(0, 10)}T${time}Z`
}

const run = (rule: Rule | ReadonlyArray<Rule>, events: ReadonlyArray<RawEvent>): ReadonlyArray<DerivedEvent> =>
  foldEvents(Array.isArray(rule) ? rule : [rule as Rule], events).derived

/** Type and payload, without the cause fields (checked separately). */
const brief = (derived: ReadonlyArray<DerivedEvent>): Array<Record<string, unknown>> =>
  derived.map((d) => {
    const { source_event_id: _s, detected_at: _d, ...rest } = d.payload as Record<string, unknown>
    return { type: d.event_type, ...rest }
  })

// --- DomainNameserversChanged -------------------------------------------------------------------

describe("DomainNameserversChanged", () => {
  it("reports a changed NS set on Domain/{id}, sorted, dated and caused by the scan", () => {
    const second = domainScan("a", day(1), { nameservers: ["ns2.new.example", "ns1.new.example"] })
    const out = run(domainNameserversChanged, [domainScan("a", day(0), { nameservers: ["ns2.old.example", "ns1.old.example"] }), second])
    expect(brief(out)).toEqual([
      {
        type: "DomainNameserversChanged",
        domain_name: "a.example",
        old_nameservers: ["ns1.old.example", "ns2.old.example"],
        new_nameservers: ["ns1.new.example", "ns2.new.example"],
      },
    ])
    expect(out[0]).toMatchObject({
      aggregate_type: "Domain",
      aggregate_id: "a",
      event_id: derivedEventId("DomainNameserversChanged", second.event_id, "DomainNameserversChanged"),
      payload: { source_event_id: second.event_id, detected_at: day(1) },
      metadata: { source: "ezrecon-evaluator", layer: "eval", version: "1.0" },
    })
  })

  it("compares as sets: another order or a repeated name is no change", () => {
    const out = run(domainNameserversChanged, [
      domainScan("a", day(0), { nameservers: ["ns1.x", "ns2.x"] }),
      domainScan("a", day(1), { nameservers: ["ns2.x", "ns1.x"] }),
      domainScan("a", day(2), { nameservers: ["ns1.x", "ns2.x", "ns1.x"] }),
    ])
    expect(out).toEqual([])
  })

  it("needs both sets present: the first scan, a scan without NS and the one after it report nothing", () => {
    const out = run(domainNameserversChanged, [
      domainScan("a", day(0), { nameservers: ["ns1.x"] }),
      domainScan("a", day(1), { nameservers: null }),
      domainScan("a", day(2), { nameservers: ["ns1.y"] }),
      domainScan("a", day(3), { nameservers: [] }),
      domainScan("a", day(4), { nameservers: ["ns1.z"] }),
      domainScan("a", day(5), {}),
      domainScan("a", day(6), { nameservers: ["ns1.w"] }),
      domainScan("a", day(7), { nameservers: ["ns1.v"] }),
    ])
    expect(brief(out)).toEqual([
      { type: "DomainNameserversChanged", domain_name: "a.example", old_nameservers: ["ns1.w"], new_nameservers: ["ns1.v"] },
    ])
  })

  it("keeps domains apart", () => {
    const out = run(domainNameserversChanged, [
      domainScan("a", day(0), { nameservers: ["ns1.x"] }),
      domainScan("b", day(0), { nameservers: ["ns1.y"] }),
      domainScan("a", day(1), { nameservers: ["ns1.x"] }),
      domainScan("b", day(1), { nameservers: ["ns1.y"] }),
    ])
    expect(out).toEqual([])
  })
})

// --- HostnameAddressChanged ---------------------------------------------------------------------

describe("HostnameAddressChanged", () => {
  it("reports added, removed and current addresses, each sorted, on Hostname/{id}", () => {
    const out = run(hostnameAddressChanged, [
      hostnameScan("www", day(0), ["10.0.0.9", "10.0.0.1", "10.0.0.5"]),
      hostnameScan("www", day(1), ["10.0.0.7", "10.0.0.5", "10.0.0.2"]),
    ])
    expect(brief(out)).toEqual([
      {
        type: "HostnameAddressChanged",
        hostname: "www.example",
        added_addresses: ["10.0.0.2", "10.0.0.7"],
        removed_addresses: ["10.0.0.1", "10.0.0.9"],
        current_addresses: ["10.0.0.2", "10.0.0.5", "10.0.0.7"],
      },
    ])
    expect(out[0]?.aggregate_type).toBe("Hostname")
    expect(out[0]?.aggregate_id).toBe("www")
  })

  it("reports nothing when the previous set was empty or absent, or the set is the same", () => {
    const out = run(hostnameAddressChanged, [
      hostnameScan("www", day(0), ["10.0.0.1"]),
      hostnameScan("www", day(1), ["10.0.0.1", "10.0.0.1"]),
      hostnameScan("new", day(1), null, "nxdomain"),
      hostnameScan("new", day(2), ["10.0.0.3"]),
      hostnameScan("other", day(2), []),
      hostnameScan("other", day(3), ["10.0.0.4"]),
    ])
    expect(out).toEqual([])
  })

  it("reports every address removed when the name goes to NXDOMAIN with no address", () => {
    const out = run(hostnameAddressChanged, [
      hostnameScan("www", day(0), ["10.0.0.2", "10.0.0.1"]),
      hostnameScan("www", day(1), null, "nxdomain"),
    ])
    expect(brief(out)).toEqual([
      {
        type: "HostnameAddressChanged",
        hostname: "www.example",
        added_addresses: [],
        removed_addresses: ["10.0.0.1", "10.0.0.2"],
        current_addresses: [],
      },
    ])
  })
})

// --- HostnameBecameUnreachable / HostnameRecovered ---------------------------------------------

describe("HostnameBecameUnreachable", () => {
  it("fires when a present, non-NXDOMAIN status becomes nxdomain, with the previous addresses sorted", () => {
    const out = run(hostnameBecameUnreachable, [
      hostnameScan("www", day(0), ["10.0.0.2", "10.0.0.1"]),
      hostnameScan("www", day(1), [], "nxdomain"),
      hostnameScan("www", day(2), [], "nxdomain"),
    ])
    expect(brief(out)).toEqual([
      { type: "HostnameBecameUnreachable", hostname: "www.example", previous_addresses: ["10.0.0.1", "10.0.0.2"] },
    ])
  })

  it("counts `unknown` as a present status, but not an absent one or a first scan", () => {
    const out = run(hostnameBecameUnreachable, [
      hostnameScan("a", day(0), null, "nxdomain"),
      hostnameScan("b", day(0), ["10.0.0.1"], null),
      hostnameScan("b", day(1), null, "nxdomain"),
      hostnameScan("c", day(0), null, "unknown"),
      hostnameScan("c", day(1), null, "nxdomain"),
    ])
    expect(brief(out)).toEqual([{ type: "HostnameBecameUnreachable", hostname: "c.example", previous_addresses: [] }])
    expect(out[0]?.payload.source_event_id).toBe(hostnameScan("c", day(1), null).event_id)
  })
})

describe("HostnameRecovered", () => {
  it("fires when nxdomain gives way to a status with at least one address", () => {
    const out = run(hostnameRecovered, [
      hostnameScan("www", day(0), ["10.0.0.1"]),
      hostnameScan("www", day(1), null, "nxdomain"),
      hostnameScan("www", day(2), ["10.0.0.3", "10.0.0.2"]),
      hostnameScan("www", day(3), ["10.0.0.3", "10.0.0.2"]),
    ])
    expect(brief(out)).toEqual([{ type: "HostnameRecovered", hostname: "www.example", addresses: ["10.0.0.2", "10.0.0.3"] }])
  })

  it("needs an address, and the nxdomain to be the previous scan", () => {
    const out = run(hostnameRecovered, [
      hostnameScan("a", day(0), null, "nxdomain"),
      hostnameScan("a", day(1), [], "ok"),
      hostnameScan("a", day(2), ["10.0.0.1"], "ok"),
      hostnameScan("b", day(0), null, "nxdomain"),
      hostnameScan("b", day(1), null, "unknown"),
      hostnameScan("b", day(2), ["10.0.0.1"], "ok"),
    ])
    expect(out).toEqual([])
  })
})

// --- CertificateChanged -------------------------------------------------------------------------

describe("CertificateChanged", () => {
  it("reports old and new serial on Endpoint/{id} with ip, port and hostname", () => {
    const out = run(certificateChanged, [tlsScan("www", day(0), { cert_serial: "aa" }), tlsScan("www", day(1), { cert_serial: "bb" })])
    expect(brief(out)).toEqual([
      { type: "CertificateChanged", ip: "192.0.2.1", port: 443, hostname: "www.example", old_cert_serial: "aa", new_cert_serial: "bb" },
    ])
    expect(out[0]?.aggregate_type).toBe("Endpoint")
  })

  it("omits hostname for a direct ipv4 endpoint", () => {
    const out = run(certificateChanged, [
      tlsScan("ipv4-1-443", day(0), { cert_serial: "aa" }),
      tlsScan("ipv4-1-443", day(1), { cert_serial: "bb" }),
    ])
    expect(out[0]?.payload).not.toHaveProperty("hostname")
    expect(out[0]?.payload).toMatchObject({ ip: "192.0.2.1", port: 443 })
  })

  it("remembers the last serial across failed scans", () => {
    const out = run(certificateChanged, [
      tlsScan("www", day(0), { cert_serial: "aa" }),
      tlsScan("www", day(1), { tls_status: "timeout", cert_serial: null }),
      tlsScan("www", day(2), { cert_serial: "aa" }),
      tlsScan("www", day(3), { tls_status: "refused" }),
      tlsScan("www", day(4), { cert_serial: "bb" }),
    ])
    expect(brief(out).map((d) => [d.old_cert_serial, d.new_cert_serial])).toEqual([["aa", "bb"]])
    expect(out[0]?.payload.detected_at).toBe(day(4))
  })

  it("reports nothing for the first serial of an endpoint", () => {
    expect(run(certificateChanged, [tlsScan("a", day(0), { tls_status: "refused" }), tlsScan("a", day(1), { cert_serial: "aa" })])).toEqual([])
  })
})

// --- EndpointBecameReachable / EndpointBecameUnreachable ---------------------------------------

describe("endpoint reachability", () => {
  const both = [endpointBecameReachable, endpointBecameUnreachable]

  it("follows a flapping endpoint, naming the failure", () => {
    const statuses = ["ok", "refused", "ok", "timeout", "reset", "ok", "ok"]
    const out = run(both, statuses.map((s, i) => tlsScan("ipv4-9-443", day(i), { tls_status: s })))
    expect(brief(out)).toEqual([
      { type: "EndpointBecameUnreachable", ip: "192.0.2.1", port: 443, tls_status: "refused" },
      { type: "EndpointBecameReachable", ip: "192.0.2.1", port: 443 },
      { type: "EndpointBecameUnreachable", ip: "192.0.2.1", port: 443, tls_status: "timeout" },
      { type: "EndpointBecameReachable", ip: "192.0.2.1", port: 443 },
    ])
    expect(out.map((d) => d.payload.detected_at)).toEqual([day(1), day(2), day(3), day(5)])
  })

  it("reports nothing across `unknown` or a missing status", () => {
    const statuses: Array<string | null> = ["ok", "unknown", "refused", "unknown", "ok", null, "timeout", null, "ok"]
    expect(run(both, statuses.map((s, i) => tlsScan("www", day(i), { tls_status: s })))).toEqual([])
  })

  it("does not start from a first scan", () => {
    expect(run(both, [tlsScan("a", day(0), { tls_status: "refused" }), tlsScan("b", day(0), { tls_status: "ok" })])).toEqual([])
  })
})

// --- Expiry -------------------------------------------------------------------------------------

describe("DomainExpiringSoon / DomainExpired", () => {
  // expires 2025-03-02 means 2025-03-02T00:00:00Z = day(60).
  const EXPIRES = "2025-03-02"
  const scan = (at: string, expires: string | null = EXPIRES) => domainScan("a", at, { expires })

  it("warns once per threshold as the expiry comes closer, then once when expired", () => {
    const out = run(domainExpiry, [
      scan(day(20)), // 40 days
      scan(day(30, "12:00:00")), // 29.5 → 29: threshold 30
      scan(day(35)), // 25: nothing new
      scan(day(46)), // 14: threshold 14
      scan(day(47)), // 13: nothing new
      scan(day(53)), // 7: threshold 7
      scan(day(58, "23:00:00")), // 1.04 → 1: threshold 1
      scan(day(59, "23:59:59")), // 0: threshold 1 already reported
      scan(day(60, "00:00:01")), // past: expired
      scan(day(61)), // expired already reported
    ])
    expect(brief(out)).toEqual([
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 29, threshold_days: 30 },
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 14, threshold_days: 14 },
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 7, threshold_days: 7 },
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 1, threshold_days: 1 },
      { type: "DomainExpired", domain_name: "a.example", expires: EXPIRES, days_remaining: -1 },
    ])
    expect(out.every((d) => d.aggregate_type === "Domain" && d.aggregate_id === "a")).toBe(true)
  })

  it("warns at exactly 30 days (and 30 days and some hours), not at 31", () => {
    expect(run(domainExpiry, [scan(day(29))])).toEqual([])
    expect(brief(run(domainExpiry, [scan(day(29, "00:00:01"))]))[0]).toMatchObject({ days_remaining: 30, threshold_days: 30 })
    expect(brief(run(domainExpiry, [scan(day(30))]))).toEqual([
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 30, threshold_days: 30 },
    ])
  })

  it("a bare date is 00:00 UTC: one second later is a day less", () => {
    expect(brief(run(domainExpiry, [scan(day(53))]))[0]).toMatchObject({ days_remaining: 7, threshold_days: 7 })
    expect(brief(run(domainExpiry, [scan(day(53, "00:00:01"))]))[0]).toMatchObject({ days_remaining: 6, threshold_days: 7 })
  })

  it("a first scan already 3 days out gives one warning, at 7 days", () => {
    expect(brief(run(domainExpiry, [scan(day(57)), scan(day(58))]))).toEqual([
      { type: "DomainExpiringSoon", domain_name: "a.example", expires: EXPIRES, days_remaining: 3, threshold_days: 7 },
    ])
  })

  it("expires at the instant itself, with no warning on that scan", () => {
    expect(brief(run(domainExpiry, [scan(day(60))]))).toEqual([
      { type: "DomainExpired", domain_name: "a.example", expires: EXPIRES, days_remaining: 0 },
    ])
  })

  it("re-arms on renewal, and a scan without expiry changes nothing", () => {
    const out = run(domainExpiry, [
      scan(day(50)), // 10: threshold 14
      scan(day(51), null), // nothing known: keeps the watch
      scan(day(52)), // 8: nothing new
      scan(day(55), "2025-03-20"), // renewed: 23 days to day(78): threshold 30 for the new value
      scan(day(58), "2025-03-20"), // 20: nothing new
    ])
    expect(brief(out).map((d) => [d.type, d.expires, d.threshold_days])).toEqual([
      ["DomainExpiringSoon", EXPIRES, 14],
      ["DomainExpiringSoon", "2025-03-20", 30],
    ])
  })

  it("remembers what it said of a value that comes back", () => {
    const out = run(domainExpiry, [
      scan(day(50)), // 10: threshold 14
      scan(day(51), "2026-01-01"),
      scan(day(52)), // 8: already reported 14
      scan(day(53)), // 7: threshold 7
    ])
    expect(brief(out).map((d) => d.threshold_days)).toEqual([14, 7])
  })

  it("forgets a value only after more than REMEMBERED_EXPIRY_VALUES others", () => {
    const others = Array.from({ length: REMEMBERED_EXPIRY_VALUES + 1 }, (_, i) => scan(day(51, `0${i}:00:00`), `2026-01-0${i + 1}`))
    const comeback = [scan(day(51, "12:00:00"))]
    const after = (n: number) => run(domainExpiry, [scan(day(50)), ...others.slice(0, n), ...comeback])
    expect(brief(after(REMEMBERED_EXPIRY_VALUES)).length).toBe(1)
    expect(brief(after(REMEMBERED_EXPIRY_VALUES + 1)).map((d) => d.threshold_days)).toEqual([14, 14])
  })

  it("ignores an expiry it cannot read", () => {
    expect(run(domainExpiry, [scan(day(59), "soon"), scan(day(59, "01:00:00"), "")])).toEqual([])
  })

  it("gives each threshold of one value its own id", () => {
    const a = scan(day(53))
    const [event] = run(domainExpiry, [a])
    expect(event?.event_id).toBe(derivedEventId("DomainExpiry", a.event_id, `DomainExpiringSoon:${EXPIRES}:7`))
  })

  it("takes its thresholds from the rule config", () => {
    const rule = makeDomainExpiry([3, 10, 10, -1])
    expect(rule.params).toEqual({ thresholds: [3, 10] })
    const out = run(rule, [scan(day(45)), scan(day(50)), scan(day(55)), scan(day(57)), scan(day(60))])
    expect(brief(out).map((d) => [d.type, d.days_remaining])).toEqual([
      ["DomainExpiringSoon", 10],
      ["DomainExpiringSoon", 3],
      ["DomainExpired", 0],
    ])
  })
})

describe("CertificateExpiringSoon / CertificateExpired", () => {
  const NOT_AFTER = "2025-03-01T12:00:00Z" // day(59) at noon
  const cert = (at: string, fields: Parameters<typeof tlsScan>[2] = {}) =>
    tlsScan("www", at, { cert_serial: "aa", cert_not_after: NOT_AFTER, ...fields })

  it("warns with the endpoint and certificate, once for several thresholds crossed at once", () => {
    const out = run(certificateExpiry, [cert(day(10)), cert(day(55))]) // 49.5, then 4.5 → 4: one warning, at 7
    expect(brief(out)).toEqual([
      {
        type: "CertificateExpiringSoon",
        ip: "192.0.2.1",
        port: 443,
        hostname: "www.example",
        cert_serial: "aa",
        cert_not_after: NOT_AFTER,
        days_remaining: 4,
        threshold_days: 7,
      },
    ])
    expect(out[0]?.aggregate_type).toBe("Endpoint")
  })

  it("expires once, ignores failed scans, and re-arms for a new certificate", () => {
    const out = run(certificateExpiry, [
      cert(day(59, "12:00:00")), // at the instant: expired, 0 days
      cert(day(60), { tls_status: "timeout", cert_serial: null, cert_not_after: null }),
      cert(day(61)), // still the expired one
      cert(day(62), { cert_serial: "bb", cert_not_after: "2025-03-24T00:00:00Z" }), // 20 days: 30
    ])
    expect(brief(out).map((d) => [d.type, d.cert_serial, d.days_remaining])).toEqual([
      ["CertificateExpired", "aa", 0],
      ["CertificateExpiringSoon", "bb", 20],
    ])
  })

  it("keeps endpoints apart", () => {
    const out = run(certificateExpiry, [cert(day(40)), tlsScan("api", day(40), { cert_serial: "aa", cert_not_after: NOT_AFTER })])
    expect(out.map((d) => d.aggregate_id)).toEqual(["www", "api"])
  })

  it("uses configured thresholds", () => {
    expect(run(makeCertificateExpiry([]), [cert(day(58))])).toEqual([])
  })
})

// --- SharedCertificateDetected ------------------------------------------------------------------

describe("SharedCertificateDetected", () => {
  const serial = (id: string, n: number, cert_serial: string | null, tls_status = "ok") =>
    tlsScan(id, day(n), { cert_serial, tls_status })

  it("fires when a second endpoint presents a serial, on Certificate/{serial}", () => {
    const out = run(sharedCertificateDetected, [serial("b", 0, "s1"), serial("ipv4-a-443", 0, "s1"), serial("b", 1, "s1")])
    expect(brief(out)).toEqual([
      { type: "SharedCertificateDetected", cert_serial: "s1", endpoint_count: 2, endpoints: ["b", "ipv4-a-443"] },
    ])
    expect(out[0]).toMatchObject({ aggregate_type: "Certificate", aggregate_id: "s1" })
  })

  it("fires again when a third joins, not when holders rescan", () => {
    const out = run(sharedCertificateDetected, [
      serial("a", 0, "s1"),
      serial("b", 0, "s1"),
      serial("a", 1, "s1"),
      serial("b", 1, "s1"),
      serial("c", 2, "s1"),
    ])
    expect(brief(out).map((d) => d.endpoints)).toEqual([["a", "b"], ["a", "b", "c"]])
  })

  it("counts current holders only: one that moved away is not listed, and coming back fires", () => {
    const out = run(sharedCertificateDetected, [
      serial("a", 0, "s1"),
      serial("b", 0, "s1"),
      serial("b", 1, "s2"),
      serial("c", 2, "s1"),
      serial("b", 3, "s1"),
    ])
    expect(brief(out).map((d) => [d.endpoint_count, d.endpoints])).toEqual([
      [2, ["a", "b"]],
      [2, ["a", "c"]],
      [3, ["a", "b", "c"]],
    ])
  })

  it("keeps a holder through a failed scan, and its return with the same serial is no news", () => {
    const out = run(sharedCertificateDetected, [
      serial("a", 0, "s1"),
      serial("b", 0, "s1"),
      serial("b", 1, null, "timeout"),
      serial("b", 2, "s1"),
      serial("c", 3, "s1"),
    ])
    expect(brief(out).map((d) => d.endpoints)).toEqual([["a", "b"], ["a", "b", "c"]])
  })

  it("does not fire for a serial alone", () => {
    expect(run(sharedCertificateDetected, [serial("a", 0, "s1"), serial("b", 0, "s2"), serial("a", 1, "s3")])).toEqual([])
  })
})

// --- the rule set -------------------------------------------------------------------------------

describe("rule set", () => {
  it("holds every rule once, by unique name, with the default thresholds", () => {
    expect(rules.map((r) => r.name)).toEqual([
      "DomainNameserversChanged",
      "DomainExpiry",
      "HostnameAddressChanged",
      "HostnameBecameUnreachable",
      "HostnameRecovered",
      "CertificateChanged",
      "CertificateExpiry",
      "EndpointBecameReachable",
      "EndpointBecameUnreachable",
      "SharedCertificateDetected",
    ])
    expect(defaultRuleConfig.expiryThresholds).toEqual([30, 14, 7, 1])
    expect(fingerprint(makeRules())).toBe(fingerprint(rules))
  })

  it("changes its fingerprint with the thresholds, so a snapshot of other settings is not reused", () => {
    expect(fingerprint(makeRules({ expiryThresholds: [10] }))).not.toBe(fingerprint(rules))
    expect(fingerprint(makeRules({ expiryThresholds: [1, 7, 14, 30] }))).toBe(fingerprint(rules))
  })

  it("emits a raw event's derived events in rule order", () => {
    const out = run(rules, [
      tlsScan("www", day(0), { cert_serial: "aa", cert_not_after: "2025-12-31T00:00:00Z" }),
      tlsScan("api", day(0), { tls_status: "refused" }),
      tlsScan("api", day(1), { cert_serial: "aa", cert_not_after: "2025-01-05T00:00:00Z" }),
    ])
    expect(out.map((d) => d.event_type)).toEqual(["CertificateExpiringSoon", "EndpointBecameReachable", "SharedCertificateDetected"])
  })
})
