// DomainExpiringSoon/DomainExpired and CertificateExpiringSoon/CertificateExpired.
// A warning fires when an expiry value enters a tighter threshold than the last one reported for
// that same value (one event, however many thresholds were crossed since the last scan), and
// "expired" fires once when scanned_at reaches it. A new value (renewal, new certificate) re-arms;
// a value seen before keeps what was already reported for it.
import type { DerivedEvent } from "../../events/derived.js"
import type { DomainScanResult, RawEvent, TlsScanResult } from "../../events/raw.js"
import { parseInstant } from "../../events/instant.js"
import { DAY_MS, daysUntil, derive, endpointFields, expiryInstant } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, present } from "./support.js"

/** What was reported for one expiry value: the tightest threshold (null: none yet), and expired. */
export type ExpiryMark = [reported: number | null, expired: boolean]

/** What an expiry rule remembers of one stream. */
export interface ExpiryWatch {
  /** The current expiry value as the scan wrote it. */
  expiry: string
  /** Its instant (ms since the epoch). */
  at: number
  /** The tightest threshold already reported for the current value; null before the first warning. */
  reported: number | null
  expired: boolean
  /**
   * Marks of the stream's earlier values, least recently seen first, so that an endpoint that
   * alternates between two certificates (a load balancer) does not warn again on every switch.
   * Absent until the value first changes: most streams never need it, and a snapshot holds one
   * watch per stream.
   */
  earlier?: Map<string, ExpiryMark>
}
export type ExpiryState = Map<string, ExpiryWatch>

/**
 * How many earlier expiry values a stream remembers: state stays bounded by the number of
 * streams, and a value comes back after more than this many others only in odd histories.
 */
export const REMEMBERED_EXPIRY_VALUES = 8

/** Thresholds as a rule uses them: finite, not negative, ascending, without duplicates. */
export const normalizeThresholds = (thresholds: ReadonlyArray<number>): ReadonlyArray<number> =>
  [...new Set(thresholds.filter((t) => Number.isFinite(t) && t >= 0))].sort((a, b) => a - b)


/**
 * The last instant at which a scan has nothing new to report for `watch` (not expired): before
 * the next tighter threshold than the one reported (`days <= t` once `now > at - (t + 1) days`),
 * or, with none left, before the expiry itself.
 */
const quietUntil = (watch: ExpiryWatch, thresholds: ReadonlyArray<number>): number => {
  let next: number | undefined
  for (const t of thresholds) {
    if (watch.reported !== null && t >= watch.reported) break
    next = t
  }
  return next === undefined ? watch.at - 1 : watch.at - (next + 1) * DAY_MS
}

type Verdict =
  | { readonly kind: "expired"; readonly days: number }
  | { readonly kind: "soon"; readonly days: number; readonly threshold: number }

/**
 * Updates the watch of one stream for a scan that carries `expiry`, and says what to report.
 * `thresholds` ascending. An unparseable expiry is treated like no expiry: nothing changes.
 */
const observe = (
  state: ExpiryState,
  id: string,
  expiry: string,
  scannedAt: string,
  thresholds: ReadonlyArray<number>,
): Verdict | undefined => {
  let watch = state.get(id)
  if (watch === undefined || watch.expiry !== expiry) {
    const at = expiryInstant(expiry)
    if (Number.isNaN(at)) return undefined
    if (watch === undefined) {
      watch = { expiry, at, reported: null, expired: false }
      state.set(id, watch)
    } else {
      // A new (or returning) value: put the current one aside, take up what was said of this one.
      const earlier = (watch.earlier ??= new Map())
      earlier.set(watch.expiry, [watch.reported, watch.expired])
      const mark = earlier.get(expiry)
      earlier.delete(expiry)
      if (earlier.size > REMEMBERED_EXPIRY_VALUES) {
        const oldest = earlier.keys().next()
        if (oldest.done !== true) earlier.delete(oldest.value)
      }
      watch.expiry = expiry
      watch.at = at
      watch.reported = mark?.[0] ?? null
      watch.expired = mark?.[1] ?? false
    }
  }
  if (watch.expired) return undefined
  // Most scans have nothing new to say: one comparison with the instant from which they could.
  const now = parseInstant(scannedAt)
  if (now <= quietUntil(watch, thresholds)) return undefined
  const days = daysUntil(scannedAt, watch.at)
  if (now >= watch.at) {
    watch.expired = true
    return { kind: "expired", days }
  }
  // The smallest threshold the remaining days fall within.
  let threshold: number | undefined
  for (const t of thresholds) {
    if (days <= t) {
      threshold = t
      break
    }
  }
  if (threshold === undefined || (watch.reported !== null && threshold >= watch.reported)) return undefined
  watch.reported = threshold
  return { kind: "soon", days, threshold }
}

const domainExpiryStep =
  (name: string, thresholds: ReadonlyArray<number>) =>
  (state: ExpiryState, event: RawEvent): readonly [ExpiryState, ReadonlyArray<DerivedEvent>] => {
    if (event.event_type !== "DomainScanResult") return [state, none]
    const e: DomainScanResult = event
    const expires = e.payload.expires
    if (!present(expires)) return [state, none]
    const id = e.aggregate_id
    const verdict = observe(state, id, expires, e.payload.scanned_at, thresholds)
    if (verdict === undefined) return [state, none]
    const domain_name = e.payload.domain_name
    return verdict.kind === "expired"
      ? [state, [derive(name, e, "DomainExpired", id, { domain_name, expires, days_remaining: verdict.days }, `DomainExpired:${expires}`)]]
      : [
          state,
          [
            derive(
              name,
              e,
              "DomainExpiringSoon",
              id,
              { domain_name, expires, days_remaining: verdict.days, threshold_days: verdict.threshold },
              `DomainExpiringSoon:${expires}:${verdict.threshold}`,
            ),
          ],
        ]
  }

const certificateExpiryStep =
  (name: string, thresholds: ReadonlyArray<number>) =>
  (state: ExpiryState, event: RawEvent): readonly [ExpiryState, ReadonlyArray<DerivedEvent>] => {
    if (event.event_type !== "TlsScanResult") return [state, none]
    const e: TlsScanResult = event
    const notAfter = e.payload.cert_not_after
    if (!present(notAfter)) return [state, none]
    const id = e.aggregate_id
    const verdict = observe(state, id, notAfter, e.payload.scanned_at, thresholds)
    if (verdict === undefined) return [state, none]
    const fields = { ...endpointFields(e), cert_serial: e.payload.cert_serial ?? null, cert_not_after: notAfter }
    return verdict.kind === "expired"
      ? [
          state,
          [
            derive(
              name,
              e,
              "CertificateExpired",
              id,
              { ...fields, days_remaining: verdict.days },
              `CertificateExpired:${notAfter}`,
            ),
          ],
        ]
      : [
          state,
          [
            derive(
              name,
              e,
              "CertificateExpiringSoon",
              id,
              { ...fields, days_remaining: verdict.days, threshold_days: verdict.threshold },
              `CertificateExpiringSoon:${notAfter}:${verdict.threshold}`,
            ),
          ],
        ]
  }

/** DomainExpiringSoon / DomainExpired on `Domain/{id}`, from a domain scan's `expires`. */
export const makeDomainExpiry = (thresholds: ReadonlyArray<number>): Rule<ExpiryState> => {
  const sorted = normalizeThresholds(thresholds)
  return {
    name: "DomainExpiry",
    version: 1,
    params: { thresholds: sorted },
    init: () => new Map(),
    step: domainExpiryStep("DomainExpiry", sorted),
  }
}

/** CertificateExpiringSoon / CertificateExpired on `Endpoint/{id}`, from a TLS scan's `cert_not_after`. */
export const makeCertificateExpiry = (thresholds: ReadonlyArray<number>): Rule<ExpiryState> => {
  const sorted = normalizeThresholds(thresholds)
  return {
    name: "CertificateExpiry",
    version: 1,
    params: { thresholds: sorted },
    init: () => new Map(),
    step: certificateExpiryStep("CertificateExpiry", sorted),
  }
}
