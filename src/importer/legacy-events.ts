// Events of the original's older adapter (`umrath_adapter.rb`, bucket `recon`) -> raw scan events
// in `recon-scan`. Pure.
//
// Domain/{id}         DomainScanned          -> DomainScanResult on DomainScan/{id}
//   domain_name, registrant, registrar, expires as they are; rdap_status <- status;
//   nameservers (an empty list means the lookup found none or did not run: the field is left out,
//   as the original's scan handler skipped such domains); scanned_at <- scanned_at
// NetworkHost/{id}    HostnameResolved       -> HostnameScanResult on HostnameScan/{id}
//   hostname, addresses; dns_status <- status, where the adapter's `up` is `ok`, and `nxdomain`
//   next to addresses (the stale page status) is `ok`; scanned_at <- resolved_at
// NetworkAddress/{id} AddressScanned         -> TlsScanResult on TlsScan/ipv4-{id}-443
//   ip, port 443, tls_status <- port_443_status; scanned_at <- scanned_at. When the status is
//   `unknown` (the adapter's word for "no TLS scan"), there is no TLS fact: nothing is appended.
//   The `ptr` has no raw event yet; it stays in the legacy bucket.
// PortScan/{id}       CertificateDiscovered  -> TlsScanResult on TlsScan/{id}
//   ip, hostname, cert_*, altnames, server, status_code as they are, except: port (default 443)
//   is a number (a numeric string is read, another string is an error); cert_not_after as a Ruby
//   Time becomes ISO 8601, as in ./page-events.ts; scanned_at <- discovered_at; tls_status is not in the legacy payload: `ok` when it holds a
//   certificate serial, else `unknown`.
// The adapter's own judgements (DomainExpiring, CertificateChanged, CertificateExpiring) are not
// facts: the fold derives them again from the raw events. They, and unknown types, are skipped.
//
// A missing timestamp falls back to the time the store recorded the legacy event. Ids are
// sha256(`legacy:{legacy event id}:{new event type}`) cut 8-4-4-4-12, so re-running adds nothing.
import { Data, Either, Option, ParseResult, Schema } from "effect"
import type { Addressed, StoredEvent } from "../events/envelope.js"
import { JsonObject, SCAN_BUCKET, SCAN_METADATA, streamKey } from "../events/envelope.js"
import { Instant, RAW_AGGREGATE_TYPE } from "../events/raw.js"
import { uuidFromText } from "../evaluate/derive.js"
import { ipv4EndpointId } from "../inventory/page-streams.js"
import { compact, isoTime } from "./payload.js"

/** A legacy event whose payload cannot be read as what its type says. */
export class LegacyEventError extends Data.TaggedError("LegacyEventError")<{
  readonly stream: string
  readonly event_id: string
  readonly event_type: string
  /** The payload field at fault, when one is (a decoding error names its fields in `reason`). */
  readonly field?: string
  readonly reason: string
}> {
  override get message(): string {
    const field = this.field === undefined ? "" : ` ${this.field}`
    return `${this.stream} ${this.event_type} ${this.event_id}${field}: ${this.reason}`
  }
}

/** Unknown payload fields are kept: the store is someone's history. */
const Extra = JsonObject
const Maybe = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))
const Texts = Schema.Array(Schema.String)
const IntOrText = Schema.Union(Schema.Number, Schema.String)

export const DomainScannedPayload = Schema.Struct(
  {
    domain_name: Schema.String,
    nameservers: Maybe(Texts),
    registrant: Maybe(Schema.String),
    registrar: Maybe(Schema.String),
    expires: Maybe(Schema.String),
    status: Maybe(Schema.String),
    scanned_at: Maybe(Instant),
  },
  Extra,
)
export const HostnameResolvedPayload = Schema.Struct(
  { hostname: Schema.String, addresses: Maybe(Texts), status: Maybe(Schema.String), resolved_at: Maybe(Instant) },
  Extra,
)
export const AddressScannedPayload = Schema.Struct(
  { ip: Maybe(Schema.String), port_443_status: Maybe(Schema.String), scanned_at: Maybe(Instant) },
  Extra,
)
export const CertificateDiscoveredPayload = Schema.Struct(
  {
    ip: Maybe(Schema.String),
    port: Maybe(IntOrText),
    hostname: Maybe(Schema.String),
    cert_serial: Maybe(Schema.String),
    cert_subject: Maybe(Schema.String),
    cert_issuer: Maybe(Schema.String),
    cert_not_after: Maybe(Schema.String),
    altnames: Maybe(Texts),
    server: Maybe(Schema.String),
    status_code: Maybe(IntOrText),
    discovered_at: Maybe(Instant),
  },
  Extra,
)

type RawType = keyof typeof RAW_AGGREGATE_TYPE

export const legacyImportId = (legacyEventId: string, eventType: string): string =>
  uuidFromText(`legacy:${legacyEventId}:${eventType}`)

const raw = (source: StoredEvent, type: RawType, entity: string, payload: Record<string, unknown>): Addressed => ({
  stream: { bucket: SCAN_BUCKET, aggregate_type: RAW_AGGREGATE_TYPE[type], aggregate_id: entity },
  event: {
    event_id: legacyImportId(source.event_id, type),
    event_type: type,
    payload: compact(payload),
    metadata: { ...SCAN_METADATA, legacy_event_id: source.event_id, legacy_stream: streamKey(source) },
  },
})

const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (source: StoredEvent): Either.Either<A, LegacyEventError> =>
    Schema.decodeUnknownEither(schema)(source.payload).pipe(
      Either.mapLeft(
        (e) =>
          new LegacyEventError({
            stream: streamKey(source),
            event_id: source.event_id,
            event_type: source.event_type,
            reason: ParseResult.TreeFormatter.formatErrorSync(e),
          }),
      ),
    )

const hostStatus = (status: string | null | undefined, addresses: ReadonlyArray<string>): string =>
  status === undefined || status === null
    ? addresses.length > 0
      ? "ok"
      : "unknown"
    : status === "up" || (status === "nxdomain" && addresses.length > 0)
      ? "ok"
      : status

/**
 * The port as the raw TlsScanResult wants it, a number: absent is 443, a numeric string is read.
 * Anything else would be appended and then stop `evaluate` on data xmon wrote itself.
 */
const portOf = (source: StoredEvent, port: number | string | null | undefined): Either.Either<number, LegacyEventError> =>
  port === undefined || port === null
    ? Either.right(443)
    : typeof port === "number"
      ? Either.right(port)
      : /^\d{1,5}$/.test(port.trim())
        ? Either.right(Number(port.trim()))
        : Either.left(
            new LegacyEventError({
              stream: streamKey(source),
              event_id: source.event_id,
              event_type: source.event_type,
              field: "port",
              reason: `${JSON.stringify(port)} is not a port number`,
            }),
          )

/**
 * The raw event a legacy event stands for: `Some` event, `None` for a type that records no scan
 * fact, or an error naming the event and the bad field.
 */
export const legacyEvent = (source: StoredEvent): Either.Either<Option.Option<Addressed>, LegacyEventError> => {
  const id = source.aggregate_id
  switch (source.event_type) {
    case "DomainScanned":
      return decode(DomainScannedPayload)(source).pipe(
        Either.map((p) =>
          Option.some(
            raw(source, "DomainScanResult", id, {
              domain_name: p.domain_name,
              nameservers: p.nameservers && p.nameservers.length > 0 ? p.nameservers : undefined,
              registrant: p.registrant,
              registrar: p.registrar,
              expires: p.expires,
              rdap_status: p.status,
              scanned_at: p.scanned_at ?? source.recorded_at,
            }),
          ),
        ),
      )
    case "HostnameResolved":
      return decode(HostnameResolvedPayload)(source).pipe(
        Either.map((p) => {
          const addresses = p.addresses ?? []
          return Option.some(
            raw(source, "HostnameScanResult", id, {
              hostname: p.hostname,
              addresses,
              dns_status: hostStatus(p.status, addresses),
              scanned_at: p.resolved_at ?? source.recorded_at,
            }),
          )
        }),
      )
    case "AddressScanned":
      return decode(AddressScannedPayload)(source).pipe(
        Either.map((p) =>
          p.port_443_status === undefined || p.port_443_status === null || p.port_443_status === "unknown"
            ? Option.none()
            : Option.some(
                raw(source, "TlsScanResult", ipv4EndpointId(id), {
                  ip: p.ip,
                  port: 443,
                  tls_status: p.port_443_status,
                  scanned_at: p.scanned_at ?? source.recorded_at,
                }),
              ),
        ),
      )
    case "CertificateDiscovered":
      return decode(CertificateDiscoveredPayload)(source).pipe(
        Either.flatMap((p) =>
          Either.map(portOf(source, p.port), (port) =>
            Option.some(
              raw(source, "TlsScanResult", id, {
                ip: p.ip,
                port,
                hostname: p.hostname,
                cert_serial: p.cert_serial,
                cert_subject: p.cert_subject,
                cert_issuer: p.cert_issuer,
                cert_not_after: p.cert_not_after === undefined || p.cert_not_after === null ? undefined : isoTime(p.cert_not_after),
                altnames: p.altnames ?? [],
                server: p.server,
                status_code: p.status_code,
                tls_status: p.cert_serial ? "ok" : "unknown",
                scanned_at: p.discovered_at ?? source.recorded_at,
              }),
            ),
          ),
        ),
      )
    default:
      return Either.right(Option.none())
  }
}

/**
 * Mapped events in one deterministic order for the fold: by `scanned_at` (as an instant), then
 * aggregate type, id, and the legacy position.
 */
export const orderForAppend = (
  mapped: ReadonlyArray<{ readonly source: StoredEvent; readonly event: Addressed }>,
): ReadonlyArray<Addressed> =>
  mapped
    .map((m) => ({ ...m, t: Date.parse(String(m.event.event.payload["scanned_at"])) }))
    .sort(
      (a, b) =>
        a.t - b.t ||
        cmp(a.event.stream.aggregate_type, b.event.stream.aggregate_type) ||
        cmp(a.event.stream.aggregate_id, b.event.stream.aggregate_id) ||
        a.source.position - b.source.position ||
        cmp(a.event.event.event_id, b.event.event.event_id),
    )
    .map((m) => m.event)

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
