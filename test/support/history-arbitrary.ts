// Generated raw histories for property tests (and for the crash test and the benchmark).
// An observation is drawn from small pools of ids, nameservers, addresses, statuses, serials and
// expiry values, so that repeats, changes, shared serials and threshold crossings all happen often.
// A history is the observations in order, each a few minutes to two days after the one before.
import { Arbitrary, FastCheck, Schema } from "effect"
import { SCAN_METADATA } from "../../src/events/envelope.js"
import type { RawEvent } from "../../src/events/raw.js"

const nullable = <S extends Schema.Schema.Any>(s: S) => Schema.NullOr(s)
/** Minutes since the previous observation: at least one, so scanned_at strictly increases. */
const Gap = Schema.Int.pipe(Schema.between(1, 2 * 24 * 60))

export const DOMAIN_IDS = ["alpha-example", "beta-example"] as const
export const HOSTNAME_IDS = ["www-alpha", "mail-alpha"] as const
export const ENDPOINT_IDS = ["portscan-10-0-0-1-443-www-alpha-example", "portscan-10-0-0-2-443-mail-alpha-example", "ipv4-10-0-0-9-443"] as const

export const DomainObservation = Schema.Struct({
  kind: Schema.Literal("domain"),
  id: Schema.Literal(...DOMAIN_IDS),
  nameservers: nullable(Schema.Array(Schema.Literal("ns1.a.example", "ns2.a.example", "ns1.b.example")).pipe(Schema.maxItems(3))),
  expires: nullable(Schema.Literal("2025-01-10", "2025-02-01", "2025-03-01")),
  gap_minutes: Gap,
})

export const HostnameObservation = Schema.Struct({
  kind: Schema.Literal("hostname"),
  id: Schema.Literal(...HOSTNAME_IDS),
  addresses: nullable(Schema.Array(Schema.Literal("10.0.0.1", "10.0.0.2", "10.0.0.3")).pipe(Schema.maxItems(4))),
  dns_status: nullable(Schema.Literal("ok", "nxdomain", "unknown", "servfail")),
  gap_minutes: Gap,
})

export const TlsObservation = Schema.Struct({
  kind: Schema.Literal("tls"),
  id: Schema.Literal(...ENDPOINT_IDS),
  tls_status: nullable(Schema.Literal("ok", "refused", "timeout", "reset", "unknown")),
  cert_serial: nullable(Schema.Literal("aa01", "bb02", "cc03")),
  cert_not_after: nullable(Schema.Literal("2025-01-05T12:00:00Z", "2025-02-10T00:00:00Z", "2025-03-20T08:30:00Z")),
  gap_minutes: Gap,
})

export const Observation = Schema.Union(DomainObservation, HostnameObservation, TlsObservation)
export type Observation = typeof Observation.Type

/** The first observation is this long after 2025-01-01T00:00:00Z (its gap). */
const EPOCH = Date.parse("2025-01-01T00:00:00Z")

const ENDPOINT_ADDRESS: Record<(typeof ENDPOINT_IDS)[number], { ip: string; hostname: string | null }> = {
  "portscan-10-0-0-1-443-www-alpha-example": { ip: "10.0.0.1", hostname: "www.alpha.example" },
  "portscan-10-0-0-2-443-mail-alpha-example": { ip: "10.0.0.2", hostname: "mail.alpha.example" },
  "ipv4-10-0-0-9-443": { ip: "10.0.0.9", hostname: null },
}

/** A UUID-shaped event id from the event's place in the history. */
const eventId = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`

/**
 * Raw events from observations, in order: ids from `firstId` on, per-stream positions from 1,
 * global positions from 1, scanned_at accumulated from the gaps.
 */
export const toHistory = (observations: ReadonlyArray<Observation>, firstId = 1): Array<RawEvent> => {
  const positions = new Map<string, number>()
  let at = EPOCH
  return observations.map((o, i): RawEvent => {
    at += o.gap_minutes * 60_000
    const scanned_at = new Date(at).toISOString()
    const aggregate_type = o.kind === "domain" ? "DomainScan" : o.kind === "hostname" ? "HostnameScan" : "TlsScan"
    const stream = `${aggregate_type}/${o.id}`
    const position = (positions.get(stream) ?? 0) + 1
    positions.set(stream, position)
    const place = {
      event_id: eventId(firstId + i),
      aggregate_type,
      aggregate_id: o.id,
      position,
      global_position: i + 1,
      metadata: { ...SCAN_METADATA },
    }
    switch (o.kind) {
      case "domain":
        return {
          ...place,
          event_type: "DomainScanResult",
          payload: {
            domain_name: o.id.replace("-", "."),
            nameservers: o.nameservers,
            registrant: null,
            registrar: "REG-EXAMPLE",
            expires: o.expires,
            rdap_status: null,
            scanned_at,
          },
        }
      case "hostname":
        return {
          ...place,
          event_type: "HostnameScanResult",
          payload: { hostname: `${o.id.replace("-", ".")}.example`, addresses: o.addresses, dns_status: o.dns_status, scanned_at },
        }
      case "tls": {
        const { ip, hostname } = ENDPOINT_ADDRESS[o.id]
        return {
          ...place,
          event_type: "TlsScanResult",
          payload: {
            ip,
            port: 443,
            hostname,
            cert_serial: o.cert_serial,
            cert_not_after: o.cert_not_after,
            tls_status: o.tls_status,
            scanned_at,
          },
        }
      }
    }
  })
}

export interface HistoryOptions {
  /** Most observations in one history (default 60). */
  readonly maxEvents?: number
}

/** One observation, from the schema. */
export const observationArbitrary: FastCheck.Arbitrary<Observation> = Arbitrary.make(Observation)

/**
 * Observation lists. fast-check's default size keeps arrays near ten items, too short for
 * histories where things repeat, change and change back; `size: "max"` spreads lengths up to
 * `maxEvents`.
 */
export const observationsArbitrary = (options: HistoryOptions = {}): FastCheck.Arbitrary<ReadonlyArray<Observation>> =>
  FastCheck.array(observationArbitrary, { maxLength: options.maxEvents ?? 60, size: "max" })

/** Raw histories: observations turned into events with increasing scanned_at. */
export const historyArbitrary = (options: HistoryOptions = {}): FastCheck.Arbitrary<ReadonlyArray<RawEvent>> =>
  observationsArbitrary(options).map((observations) => toHistory(observations))
