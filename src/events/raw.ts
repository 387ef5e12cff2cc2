// Layer 1: raw observations in the bucket `recon-scan`, field names as the original writes them.
// Every payload keeps unknown extra fields (the index signature), because the store is someone's
// history and a newer scanner may have added fields we do not know yet.
import { Schema } from "effect"
import { JsonObject } from "./envelope.js"
import { isInstant } from "./instant.js"

/** Unknown payload fields are kept: the store is someone's history. */
const Extra = JsonObject
/** Absent, null or a value: the original writes nil freely. */
const Maybe = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))

/** An ISO 8601 date-time (or date); without a zone it is read as UTC (see instant.ts). */
export const Instant = Schema.String.pipe(
  Schema.filter(isInstant, {
    message: () => "expected an ISO 8601 date-time, e.g. 2025-03-01T06:00:00Z",
    // Property tests: random strings are almost never ISO instants, so generate real ones.
    arbitrary: () => (fc) =>
      fc
        .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
        .map((d) => d.toISOString()),
  }),
)

export const DomainScanResultPayload = Schema.Struct(
  {
    domain_name: Schema.String,
    nameservers: Maybe(Schema.Array(Schema.String)),
    registrant: Maybe(Schema.String),
    registrar: Maybe(Schema.String),
    expires: Maybe(Schema.String),
    rdap_status: Maybe(Schema.Unknown),
    scanned_at: Instant,
  },
  Extra,
)

export const HostnameScanResultPayload = Schema.Struct(
  {
    hostname: Schema.String,
    addresses: Maybe(Schema.Array(Schema.String)),
    dns_status: Maybe(Schema.String),
    scanned_at: Instant,
  },
  Extra,
)

export const TlsScanResultPayload = Schema.Struct(
  {
    ip: Maybe(Schema.String),
    port: Maybe(Schema.Number),
    hostname: Maybe(Schema.String),
    cert_serial: Maybe(Schema.String),
    cert_subject: Maybe(Schema.String),
    cert_issuer: Maybe(Schema.String),
    cert_not_after: Maybe(Schema.String),
    altnames: Maybe(Schema.Array(Schema.String)),
    server: Maybe(Schema.String),
    status_code: Maybe(Schema.Union(Schema.Number, Schema.String)),
    tls_status: Maybe(Schema.String),
    scanned_at: Instant,
  },
  Extra,
)

/** Where the fold found an event: enough to name it in an error and to order it. */
const Place = {
  event_id: Schema.String,
  aggregate_type: Schema.String,
  aggregate_id: Schema.String,
  position: Schema.Number,
  global_position: Schema.Number,
  metadata: JsonObject,
}

export const DomainScanResult = Schema.Struct({
  ...Place,
  event_type: Schema.Literal("DomainScanResult"),
  payload: DomainScanResultPayload,
})
export const HostnameScanResult = Schema.Struct({
  ...Place,
  event_type: Schema.Literal("HostnameScanResult"),
  payload: HostnameScanResultPayload,
})
export const TlsScanResult = Schema.Struct({
  ...Place,
  event_type: Schema.Literal("TlsScanResult"),
  payload: TlsScanResultPayload,
})

/** The raw events the rules understand. Other event types in the bucket pass the fold untouched. */
export const RawEvent = Schema.Union(DomainScanResult, HostnameScanResult, TlsScanResult)
export type RawEvent = typeof RawEvent.Type
export type DomainScanResult = typeof DomainScanResult.Type
export type HostnameScanResult = typeof HostnameScanResult.Type
export type TlsScanResult = typeof TlsScanResult.Type

export const RAW_EVENT_TYPES: ReadonlySet<string> = new Set(["DomainScanResult", "HostnameScanResult", "TlsScanResult"])

/** The stream each raw event type is written to (DESIGN.md section 2). */
export const RAW_AGGREGATE_TYPE = {
  DomainScanResult: "DomainScan",
  HostnameScanResult: "HostnameScan",
  TlsScanResult: "TlsScan",
} as const

/** `tls_status` values that mean the endpoint did not answer TLS; `unknown` is neither. */
export const TLS_FAILURE_STATUSES: ReadonlySet<string> = new Set([
  "refused",
  "timeout",
  "socket_timeout",
  "unreachable",
  "connect_timeout",
  "ssl_error",
  "reset",
  "read_timeout",
  "no_header",
])
