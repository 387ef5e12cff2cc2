// Layer 2: derived events in the bucket `recon-eval`. Each is a function of the raw events alone.
import { Schema } from "effect"
import { JsonObject } from "./envelope.js"

/** Unknown payload fields are kept: the store is someone's history. */
const Extra = JsonObject
const Sorted = Schema.Array(Schema.String)

/** Every derived payload names its cause and takes its time from it, never from the wall clock. */
const Cause = { source_event_id: Schema.String, detected_at: Schema.String }
const Endpoint = { ip: Schema.NullOr(Schema.String), port: Schema.NullOr(Schema.Number), hostname: Schema.optional(Schema.String) }

const payload = <F extends Schema.Struct.Fields>(fields: F) => Schema.Struct({ ...Cause, ...fields }, Extra)

export const DerivedPayloads = {
  DomainNameserversChanged: payload({ domain_name: Schema.String, old_nameservers: Sorted, new_nameservers: Sorted }),
  DomainExpiringSoon: payload({
    domain_name: Schema.String,
    expires: Schema.String,
    days_remaining: Schema.Number,
    threshold_days: Schema.Number,
  }),
  DomainExpired: payload({ domain_name: Schema.String, expires: Schema.String, days_remaining: Schema.Number }),
  HostnameAddressChanged: payload({
    hostname: Schema.String,
    added_addresses: Sorted,
    removed_addresses: Sorted,
    current_addresses: Sorted,
  }),
  HostnameBecameUnreachable: payload({ hostname: Schema.String, previous_addresses: Sorted }),
  HostnameRecovered: payload({ hostname: Schema.String, addresses: Sorted }),
  CertificateChanged: payload({ ...Endpoint, old_cert_serial: Schema.String, new_cert_serial: Schema.String }),
  CertificateExpiringSoon: payload({
    ...Endpoint,
    cert_serial: Schema.NullOr(Schema.String),
    cert_not_after: Schema.String,
    days_remaining: Schema.Number,
    threshold_days: Schema.Number,
  }),
  CertificateExpired: payload({
    ...Endpoint,
    cert_serial: Schema.NullOr(Schema.String),
    cert_not_after: Schema.String,
    days_remaining: Schema.Number,
  }),
  EndpointBecameReachable: payload({ ...Endpoint }),
  EndpointBecameUnreachable: payload({ ...Endpoint, tls_status: Schema.String }),
  SharedCertificateDetected: payload({ cert_serial: Schema.String, endpoint_count: Schema.Number, endpoints: Sorted }),
} as const

export type DerivedEventType = keyof typeof DerivedPayloads
export const DERIVED_EVENT_TYPES = Object.keys(DerivedPayloads) as ReadonlyArray<DerivedEventType>

/** The stream (aggregate type) each derived event goes to in `recon-eval`. */
export const DERIVED_AGGREGATE_TYPE: Record<DerivedEventType, string> = {
  DomainNameserversChanged: "Domain",
  DomainExpiringSoon: "Domain",
  DomainExpired: "Domain",
  HostnameAddressChanged: "Hostname",
  HostnameBecameUnreachable: "Hostname",
  HostnameRecovered: "Hostname",
  CertificateChanged: "Endpoint",
  CertificateExpiringSoon: "Endpoint",
  CertificateExpired: "Endpoint",
  EndpointBecameReachable: "Endpoint",
  EndpointBecameUnreachable: "Endpoint",
  SharedCertificateDetected: "Certificate",
}

const derived = <T extends DerivedEventType>(type: T) =>
  Schema.Struct({
    aggregate_type: Schema.String,
    aggregate_id: Schema.String,
    event_id: Schema.String,
    event_type: Schema.Literal(type),
    payload: DerivedPayloads[type],
    metadata: JsonObject,
  })

export const DerivedEvent = Schema.Union(
  derived("DomainNameserversChanged"),
  derived("DomainExpiringSoon"),
  derived("DomainExpired"),
  derived("HostnameAddressChanged"),
  derived("HostnameBecameUnreachable"),
  derived("HostnameRecovered"),
  derived("CertificateChanged"),
  derived("CertificateExpiringSoon"),
  derived("CertificateExpired"),
  derived("EndpointBecameReachable"),
  derived("EndpointBecameUnreachable"),
  derived("SharedCertificateDetected"),
)
export type DerivedEvent = typeof DerivedEvent.Type
/** The payload a rule supplies for one derived event type, without the cause fields. */
export type DerivedPayload<T extends DerivedEventType> = Omit<
  (typeof DerivedPayloads)[T]["Type"],
  "source_event_id" | "detected_at"
>
