// Pages at one snapshot -> the raw scan events they record. Pure.
//
// The mapping follows the original's `bin/import_historical` (and its worker handlers, which
// emit the same payloads from live pages). Absent and null fields are left out of the payload, as
// the original's `.compact` did. Differences from the original are marked (*).
//
// domain page (`_type: domain`) that has `nameservers` (without them it was never scanned: no event)
//   -> DomainScanResult on DomainScan/{page id}
//   domain_name <- name · nameservers <- nameservers (one value is a list of one) · registrant ·
//   registrar · expires (as written) · rdap_status <- status (a Ruby symbol without its colon)
// hostname page -> HostnameScanResult on HostnameScan/{page id}
//   hostname <- hostname · addresses <- address (the original's key; one address is a scalar; `nil`
//   after NXDOMAIN), or `addresses` / `a` when a page has no `address`
//   dns_status <- dns_status or status; when absent: `ok` with addresses, else `unknown`
//   (*) `nxdomain` next to addresses is the original's stale status (it never cleared it once the
//       name resolved again): it is reported as `ok`, so HostnameRecovered can fire (DESIGN 3.4).
// portscan page -> TlsScanResult on TlsScan/{page id}
//   ip · port (default 443) · hostname · cert_serial <- cert_sn · cert_subject <- name ·
//   cert_issuer <- issuer · cert_not_after (a Ruby Time becomes ISO 8601) · altnames · server ·
//   status_code · tls_status <- status (default `unknown`)
// ipv4 page that has `p443_status` -> TlsScanResult on TlsScan/ipv4-{page id}-443, no hostname
//   ip · port 443 · the same certificate fields from `p443_cert_sn`, `p443_name`, `p443_issuer`,
//   `p443_cert_not_after`; (*) also altnames, server, status_code from `p443_altnames`,
//   `p443_server`, `p443_status_code`, which the original's scanner writes and its import dropped.
// (*) For both TLS kinds: when tls_status is a failure status, the certificate and HTTP fields are
//   left out. The original rewrites only `status` after a failed scan, so the page still shows the
//   last certificate seen; that is not what this scan measured.
// ip_range, asn and pages of unknown type record no scan.
import { Either, Option } from "effect"
import type { Addressed } from "../events/envelope.js"
import { SCAN_BUCKET, SCAN_METADATA } from "../events/envelope.js"
import { RAW_AGGREGATE_TYPE, TLS_FAILURE_STATUSES } from "../events/raw.js"
import { uuidFromText } from "../evaluate/derive.js"
import { ipv4EndpointId } from "../inventory/page-streams.js"
import type { Page, PageFieldError } from "../inventory/pages.js"
import { integerField, pageFieldError, textField, textListField } from "../inventory/pages.js"
import { compact, isoTime } from "./payload.js"

/** One snapshot of the output repository: a commit and the time its scans were made. */
export interface Snapshot {
  /** A commit hash as the user typed it (the original's ids hold the hash it was given). */
  readonly commit: string
  /** ISO 8601, as the user gave it; becomes every event's `scanned_at`. */
  readonly scannedAt: string
}

type RawType = keyof typeof RAW_AGGREGATE_TYPE

/** The original's import id: sha256 of `entity:commit:event_type`, cut 8-4-4-4-12. */
export const historyEventId = (entity: string, commit: string, eventType: string): string =>
  uuidFromText(`${entity}:${commit}:${eventType}`)

const event = (
  type: RawType,
  entity: string,
  snapshot: Snapshot,
  payload: Record<string, unknown>,
): Addressed => ({
  stream: { bucket: SCAN_BUCKET, aggregate_type: RAW_AGGREGATE_TYPE[type], aggregate_id: entity },
  event: {
    event_id: historyEventId(entity, snapshot.commit, type),
    event_type: type,
    payload: compact({ ...payload, scanned_at: snapshot.scannedAt }),
    metadata: { ...SCAN_METADATA, import_commit: snapshot.commit },
  },
})

const domainEvent = (page: Page, snapshot: Snapshot) =>
  Either.gen(function* () {
    const nameservers = yield* textListField(page, "nameservers")
    if (nameservers === undefined) return Option.none()
    const name = yield* textField(page, "name")
    if (name === undefined) return yield* Either.left(pageFieldError(page, "name", "missing: a scanned domain page needs its name"))
    return Option.some(
      event("DomainScanResult", page.id, snapshot, {
        domain_name: name,
        nameservers,
        registrant: yield* textField(page, "registrant"),
        registrar: yield* textField(page, "registrar"),
        expires: yield* textField(page, "expires"),
        rdap_status: yield* textField(page, "status"),
      }),
    )
  })

const hostnameEvent = (page: Page, snapshot: Snapshot) =>
  Either.gen(function* () {
    const hostname = yield* textField(page, "hostname")
    if (hostname === undefined) return yield* Either.left(pageFieldError(page, "hostname", "missing: a hostname page needs its name"))
    const addressField = ["address", "addresses", "a"].find((f) => f in page.fields) ?? "address"
    const addresses = (yield* textListField(page, addressField)) ?? []
    const status = (yield* textField(page, "dns_status")) ?? (yield* textField(page, "status"))
    const dnsStatus =
      status === undefined || (status === "nxdomain" && addresses.length > 0)
        ? addresses.length > 0
          ? "ok"
          : "unknown"
        : status
    return Option.some(event("HostnameScanResult", page.id, snapshot, { hostname, addresses, dns_status: dnsStatus }))
  })

/**
 * The TLS fields of a page, under `prefix` (`p443_` on ipv4 pages). `listAltnames`: an absent
 * `altnames` is an empty list (the original's `Array(...)` on portscan pages).
 */
const tlsFields = (page: Page, prefix: string, listAltnames: boolean) =>
  Either.gen(function* () {
    const tlsStatus = (yield* textField(page, `${prefix}status`)) ?? "unknown"
    if (TLS_FAILURE_STATUSES.has(tlsStatus)) return { tls_status: tlsStatus } as Record<string, unknown>
    const notAfter = yield* textField(page, `${prefix}cert_not_after`)
    const altnames = (yield* textListField(page, `${prefix}altnames`)) ?? (listAltnames ? [] : undefined)
    return {
      cert_serial: yield* textField(page, `${prefix}cert_sn`),
      cert_subject: yield* textField(page, `${prefix}name`),
      cert_issuer: yield* textField(page, `${prefix}issuer`),
      cert_not_after: notAfter === undefined ? undefined : isoTime(notAfter),
      altnames,
      server: yield* textField(page, `${prefix}server`),
      status_code: yield* integerField(page, `${prefix}status_code`),
      tls_status: tlsStatus,
    } as Record<string, unknown>
  })

const portscanEvent = (page: Page, snapshot: Snapshot) =>
  Either.gen(function* () {
    const ip = yield* textField(page, "ip")
    const port = (yield* integerField(page, "port")) ?? 443
    const hostname = yield* textField(page, "hostname")
    const tls = yield* tlsFields(page, "", true)
    return Option.some(event("TlsScanResult", page.id, snapshot, { ip, port, hostname, ...tls }))
  })

const ipv4Event = (page: Page, snapshot: Snapshot) =>
  Either.gen(function* () {
    if ((yield* textField(page, "p443_status")) === undefined) return Option.none()
    const ip = yield* textField(page, "ip")
    const tls = yield* tlsFields(page, "p443_", false)
    return Option.some(event("TlsScanResult", ipv4EndpointId(page.id), snapshot, { ip, port: 443, ...tls }))
  })

/** The raw scan event one page records at `snapshot`, if any. */
export const pageEvent = (page: Page, snapshot: Snapshot): Either.Either<Option.Option<Addressed>, PageFieldError> => {
  switch (page.kind) {
    case "domain":
      return domainEvent(page, snapshot)
    case "hostname":
      return hostnameEvent(page, snapshot)
    case "portscan":
      return portscanEvent(page, snapshot)
    case "ipv4":
      return ipv4Event(page, snapshot)
    default:
      return Either.right(Option.none())
  }
}

const KIND_ORDER = { domain: 0, hostname: 1, portscan: 2, ipv4: 3 } as Record<string, number>

/**
 * The events of a snapshot's pages, in the original's order: domains, hostnames, portscans, then
 * ipv4s, each kind in path order. The first bad page stops the mapping with its error.
 */
export const snapshotEvents = (
  pages: ReadonlyArray<Page>,
  snapshot: Snapshot,
): Either.Either<ReadonlyArray<Addressed>, PageFieldError> => {
  const ordered = pages
    .filter((p) => p.kind !== undefined && p.kind in KIND_ORDER)
    .map((p, i) => ({ p, i }))
    .sort((a, b) => KIND_ORDER[a.p.kind!]! - KIND_ORDER[b.p.kind!]! || a.i - b.i)
  const out: Array<Addressed> = []
  for (const { p } of ordered) {
    const r = pageEvent(p, snapshot)
    if (Either.isLeft(r)) return Either.left(r.left)
    if (Option.isSome(r.right)) out.push(r.right.value)
  }
  // Every event of a snapshot has the same scanned_at. An Umrath store orders such ties by
  // aggregate type, then id: append in that order too, so that an embedded store folds them the
  // same way (who presents a shared certificate "first" depends on it).
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  out.sort((a, b) => byText(a.stream.aggregate_type, b.stream.aggregate_type) || byText(a.stream.aggregate_id, b.stream.aggregate_id))
  return Either.right(out)
}
