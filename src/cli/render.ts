// Words for people: summaries of runs and of derived events. Pure.
import type { StoredEvent } from "../events/envelope.js"
import type { EvaluationSummary } from "../evaluate/runner.js"

const list = (xs: unknown): string => (Array.isArray(xs) && xs.length > 0 ? xs.join(", ") : "(none)")
const endpoint = (p: Record<string, unknown>): string =>
  `${p.hostname ? `${p.hostname} ` : ""}${p.ip ?? "?"}:${p.port ?? "?"}`

/** One line saying what a derived event means. */
export const describeDerived = (type: string, p: Record<string, unknown>): string => {
  switch (type) {
    case "DomainNameserversChanged":
      return `${p.domain_name}: nameservers ${list(p.old_nameservers)} -> ${list(p.new_nameservers)}`
    case "DomainExpiringSoon":
      return `${p.domain_name} expires ${p.expires}: ${daysLeft(p.days_remaining)} (within ${p.threshold_days})`
    case "DomainExpired":
      return `${p.domain_name} expired on ${p.expires}`
    case "HostnameAddressChanged":
      return `${p.hostname}: +[${list(p.added_addresses)}] -[${list(p.removed_addresses)}] now ${list(p.current_addresses)}`
    case "HostnameBecameUnreachable":
      return `${p.hostname}: NXDOMAIN (was ${list(p.previous_addresses)})`
    case "HostnameRecovered":
      return `${p.hostname} resolves again: ${list(p.addresses)}`
    case "CertificateChanged":
      return `${endpoint(p)}: certificate ${p.old_cert_serial} -> ${p.new_cert_serial}`
    case "CertificateExpiringSoon":
      return `${endpoint(p)}: certificate ${p.cert_serial} expires ${p.cert_not_after}: ${daysLeft(p.days_remaining)} (within ${p.threshold_days})`
    case "CertificateExpired":
      return `${endpoint(p)}: certificate ${p.cert_serial} expired at ${p.cert_not_after}`
    case "EndpointBecameReachable":
      return `${endpoint(p)}: TLS answers again`
    case "EndpointBecameUnreachable":
      return `${endpoint(p)}: TLS ${p.tls_status}`
    case "SharedCertificateDetected":
      return `certificate ${p.cert_serial} on ${p.endpoint_count} endpoints: ${list(p.endpoints)}`
    default:
      return JSON.stringify(p)
  }
}

const daysLeft = (n: unknown): string => `${n} ${n === 1 || n === -1 ? "day" : "days"} left`

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length))

/** A table of stored events: when, what, where, and the one-line meaning. */
export const eventsTable = (events: ReadonlyArray<StoredEvent>): string => {
  if (events.length === 0) return "no events"
  const rows = events.map((e) => [
    String(e.payload.detected_at ?? e.payload.scanned_at ?? e.recorded_at),
    e.event_type,
    `${e.aggregate_type}/${e.aggregate_id}`,
    describeDerived(e.event_type, e.payload),
  ])
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => (i < 3 ? pad(cell, widths[i]!) : cell)).join("  ")).join("\n")
}

/** The evaluate report: like the original's stats, counts per derived event type and the checkpoint. */
export const evaluationReport = (s: EvaluationSummary): string => {
  const types = Object.entries(s.derived).sort(([a], [b]) => a.localeCompare(b))
  const width = Math.max(20, ...types.map(([t]) => t.length))
  const lines = [
    `evaluate (${s.mode}): ${s.reason}`,
    `raw events folded: ${s.raw_events} (${s.new_raw_events} past the checkpoint)` +
      (s.resumed_from > 0 ? `, resumed from the snapshot at ${s.resumed_from}` : ""),
  ]
  if (s.skipped_invalid > 0) lines.push(`invalid raw events skipped: ${s.skipped_invalid}`, ...s.invalid.map((m) => `  ${m}`))
  lines.push(types.length === 0 ? "derived events: none" : "derived events:")
  for (const [type, n] of types) lines.push(`  ${pad(type, width)} ${n}`)
  lines.push(
    `appended to recon-eval: ${s.stored} new, ${s.duplicates} already stored`,
    `checkpoint: global position ${s.checkpoint.global_position}, ${s.checkpoint.streams} streams`,
  )
  return lines.join("\n")
}
