// A synthetic scan history for the benchmark: rounds of scans over a fixed set of entities,
// with a few changes each round, so the state grows with entities and not with history.
import type { Addressed } from "../src/events/envelope.js"
import { SCAN_BUCKET, SCAN_METADATA } from "../src/events/envelope.js"
import { uuidFromText } from "../src/evaluate/derive.js"

/** A small, seeded PRNG (mulberry32): the same history on every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const DAY = 86_400_000
const START = Date.parse("2025-01-01T00:00:00Z")

export interface Shape {
  readonly domains: number
  readonly hostnames: number
  readonly endpoints: number
}

/** About one entity per 50 events: a million events are 50 rounds over 20,000 entities. */
export const shapeFor = (events: number): Shape => {
  const entities = Math.max(30, Math.round(events / 50))
  return {
    domains: Math.round(entities * 0.1),
    hostnames: Math.round(entities * 0.4),
    endpoints: entities - Math.round(entities * 0.1) - Math.round(entities * 0.4),
  }
}

/**
 * `count` events starting at round `fromRound`, in batches of `batch`. Each round scans every
 * entity once, a few hours apart; about 2 % of observations change something.
 */
export function* syntheticHistory(
  count: number,
  shape: Shape,
  options: { readonly seed?: number; readonly fromRound?: number; readonly batch?: number } = {},
): Generator<ReadonlyArray<Addressed>> {
  const random = prng(options.seed ?? 42)
  const batchSize = options.batch ?? 5000
  const kinds = shape.domains + shape.hostnames + shape.endpoints
  let batch: Array<Addressed> = []
  let emitted = 0
  for (let round = options.fromRound ?? 0; emitted < count; round++) {
    for (let i = 0; i < kinds && emitted < count; i++, emitted++) {
      const at = new Date(START + round * DAY + i * 1000).toISOString()
      const change = random() < 0.02
      const salt = change ? Math.floor(random() * 4) : 0
      const id = (prefix: string) => `${prefix}-${i}`
      let stream: string
      let event: Addressed["event"]
      if (i < shape.domains) {
        stream = "DomainScan"
        const expires = new Date(START + (60 + (i % 400)) * DAY).toISOString().slice(0, 10)
        event = {
          event_id: uuidFromText(`bench:${i}:${round}`),
          event_type: "DomainScanResult",
          payload: {
            domain_name: `d${i}.example`,
            nameservers: [`ns1.p${(i + salt) % 7}.example`, `ns2.p${(i + salt) % 7}.example`],
            registrant: `holder-${i % 97}`,
            registrar: `registrar-${i % 13}`,
            expires,
            rdap_status: ["active"],
            scanned_at: at,
          },
          metadata: { ...SCAN_METADATA },
        }
      } else if (i < shape.domains + shape.hostnames) {
        stream = "HostnameScan"
        const nx = salt === 3
        event = {
          event_id: uuidFromText(`bench:${i}:${round}`),
          event_type: "HostnameScanResult",
          payload: {
            hostname: `h${i}.example`,
            addresses: nx ? [] : [`10.${i % 256}.${(i >> 8) % 256}.${1 + salt}`],
            dns_status: nx ? "nxdomain" : "ok",
            scanned_at: at,
          },
          metadata: { ...SCAN_METADATA },
        }
      } else {
        stream = "TlsScan"
        const failed = salt === 3
        const serial = ((i * 2654435761) >>> 0).toString(16) + (salt === 1 ? "01" : "00")
        event = {
          event_id: uuidFromText(`bench:${i}:${round}`),
          event_type: "TlsScanResult",
          payload: {
            ip: `10.${i % 256}.${(i >> 8) % 256}.9`,
            port: 443,
            hostname: `h${i}.example`,
            cert_serial: failed ? null : serial,
            cert_subject: `CN=h${i}.example`,
            cert_issuer: "CN=Bench CA",
            cert_not_after: new Date(START + (20 + (i % 300)) * DAY).toISOString(),
            altnames: [`h${i}.example`],
            server: "nginx",
            status_code: 200,
            tls_status: failed ? "timeout" : "ok",
            scanned_at: at,
          },
          metadata: { ...SCAN_METADATA },
        }
      }
      batch.push({ stream: { bucket: SCAN_BUCKET, aggregate_type: stream, aggregate_id: id(stream) }, event })
      if (batch.length >= batchSize) {
        yield batch
        batch = []
      }
    }
  }
  if (batch.length > 0) yield batch
}

/** The round after the last one `count` events fill: where appended events continue the history. */
export const nextRound = (count: number, shape: Shape): number =>
  Math.ceil(count / (shape.domains + shape.hostnames + shape.endpoints))
