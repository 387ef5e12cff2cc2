// Properties the rule set keeps over any generated history (test/support/history-arbitrary.ts).
import { describe, expect, it } from "@effect/vitest"
import { FastCheck, Schema } from "effect"
import type { DerivedEvent } from "../../src/events/derived.js"
import { DerivedEvent as DerivedEventSchema } from "../../src/events/derived.js"
import type { RawEvent } from "../../src/events/raw.js"
import { foldEvents } from "../../src/evaluate/fold.js"
import { makeRules, rules } from "../../src/evaluate/rules/index.js"
import { decodeState, encodeState } from "../../src/evaluate/snapshot.js"
import { historyArbitrary, observationsArbitrary, toHistory } from "../support/history-arbitrary.js"

const runs = { fastCheck: { numRuns: 200 } }
const ids = (derived: ReadonlyArray<DerivedEvent>) => derived.map((d) => d.event_id)

/** Derived events that report a change of what was observed (not the passing of time). */
const CHANGE_TYPES = new Set([
  "DomainNameserversChanged",
  "HostnameAddressChanged",
  "HostnameBecameUnreachable",
  "HostnameRecovered",
  "CertificateChanged",
  "EndpointBecameReachable",
  "EndpointBecameUnreachable",
  "SharedCertificateDetected",
])

describe("rule set properties", () => {
  it.prop(
    "the same history derives the same events, ids included, with unique ids",
    { history: historyArbitrary() },
    ({ history }) => {
      const first = foldEvents(rules, history).derived
      const second = foldEvents(makeRules(), history).derived
      expect(second).toEqual(first)
      expect(new Set(ids(first)).size).toBe(first.length)
    },
    runs,
  )

  it.prop(
    "every derived event is well formed and dated by its cause",
    { history: historyArbitrary() },
    ({ history }) => {
      const byId = new Map(history.map((e) => [e.event_id, e]))
      for (const d of foldEvents(rules, history).derived) {
        expect(Schema.decodeUnknownSync(DerivedEventSchema)(d)).toEqual(d)
        const source = byId.get(d.payload.source_event_id)
        expect(source).toBeDefined()
        expect(d.payload.detected_at).toBe(source?.payload.scanned_at)
      }
    },
    runs,
  )

  it.prop(
    "folding up to any point, saving the state as JSON and resuming equals one full fold",
    { history: historyArbitrary(), cut: FastCheck.nat() },
    ({ history, cut }) => {
      const at = cut % (history.length + 1)
      const full = foldEvents(rules, history)
      const head = foldEvents(rules, history.slice(0, at))
      const saved = decodeState(JSON.parse(JSON.stringify(encodeState(head.state)))) as ReadonlyArray<unknown>
      const tail = foldEvents(rules, history.slice(at), saved)
      expect([...head.derived, ...tail.derived]).toEqual(full.derived)
      expect(encodeState(tail.state)).toEqual(encodeState(full.state))
    },
    runs,
  )

  it.prop(
    "replaying the same history again adds no new id",
    { history: historyArbitrary() },
    ({ history }) => {
      const once = new Set(ids(foldEvents(rules, history).derived))
      const again = ids(foldEvents(rules, history).derived)
      expect(again.filter((id) => !once.has(id))).toEqual([])
      expect(new Set(again)).toEqual(once)
    },
    runs,
  )

  it.prop(
    "an observation repeated right after itself derives no change event",
    { observations: observationsArbitrary() },
    ({ observations }) => {
      // Each observation followed by the same one a minute later: odd indexes are the repeats.
      const history = toHistory(observations.flatMap((o) => [o, { ...o, gap_minutes: 1 }]))
      const repeats = new Set(history.filter((_, i) => i % 2 === 1).map((e) => e.event_id))
      const fromRepeats = foldEvents(rules, history).derived.filter(
        (d) => repeats.has(d.payload.source_event_id) && CHANGE_TYPES.has(d.event_type),
      )
      expect(fromRepeats).toEqual([])
    },
    runs,
  )

  it.prop(
    "address changes: added ∪ (old − removed) = current, added is new, removed was there",
    { history: historyArbitrary() },
    ({ history }) => {
      const previous = previousInStream(history)
      for (const d of foldEvents(rules, history).derived) {
        if (d.event_type !== "HostnameAddressChanged") continue
        const before = previous.get(d.payload.source_event_id)
        const old = new Set(before?.event_type === "HostnameScanResult" ? (before.payload.addresses ?? []) : [])
        const removed = new Set(d.payload.removed_addresses)
        const rebuilt = new Set([...d.payload.added_addresses, ...[...old].filter((a) => !removed.has(a))])
        expect([...rebuilt].sort()).toEqual(d.payload.current_addresses)
        expect(d.payload.added_addresses.some((a) => old.has(a))).toBe(false)
        expect(d.payload.removed_addresses.every((a) => old.has(a))).toBe(true)
        expect(d.payload.added_addresses.length + d.payload.removed_addresses.length).toBeGreaterThan(0)
      }
    },
    runs,
  )

  it.prop(
    "expiry events are exactly those the definition gives",
    { history: historyArbitrary(), thresholds: FastCheck.uniqueArray(FastCheck.integer({ min: 0, max: 40 }), { maxLength: 5 }) },
    ({ history, thresholds }) => {
      for (const [set, ts] of [
        [rules, [30, 14, 7, 1]],
        [makeRules({ expiryThresholds: thresholds }), thresholds],
      ] as const) {
        const actual = foldEvents(set, history).derived.flatMap((d): Array<[string, number | "expired", number]> => {
          switch (d.event_type) {
            case "DomainExpiringSoon":
            case "CertificateExpiringSoon":
              return [[d.payload.source_event_id, d.payload.threshold_days, d.payload.days_remaining]]
            case "DomainExpired":
            case "CertificateExpired":
              return [[d.payload.source_event_id, "expired", d.payload.days_remaining]]
            default:
              return []
          }
        })
        expect(actual).toEqual(expiryByDefinition(history, ts))
      }
    },
    runs,
  )

  it.prop(
    "expiry warnings never repeat for one stream, expiry value and threshold; expired fires once per value",
    { history: historyArbitrary(), thresholds: FastCheck.uniqueArray(FastCheck.integer({ min: 0, max: 40 }), { maxLength: 5 }) },
    ({ history, thresholds }) => {
      for (const set of [rules, makeRules({ expiryThresholds: thresholds })]) {
        const seen = new Set<string>()
        for (const d of foldEvents(set, history).derived) {
          let key: string | undefined
          if (d.event_type === "DomainExpiringSoon") key = `${d.aggregate_id}|${d.payload.expires}|${d.payload.threshold_days}`
          if (d.event_type === "CertificateExpiringSoon")
            key = `${d.aggregate_id}|${d.payload.cert_not_after}|${d.payload.threshold_days}`
          if (d.event_type === "DomainExpired") key = `${d.aggregate_id}|${d.payload.expires}|expired`
          if (d.event_type === "CertificateExpired") key = `${d.aggregate_id}|${d.payload.cert_not_after}|expired`
          if (key === undefined) continue
          expect(seen.has(`${d.event_type}|${key}`)).toBe(false)
          seen.add(`${d.event_type}|${key}`)
          if (d.event_type === "DomainExpiringSoon" || d.event_type === "CertificateExpiringSoon") {
            expect(d.payload.days_remaining).toBeGreaterThanOrEqual(0)
            expect(d.payload.days_remaining).toBeLessThanOrEqual(d.payload.threshold_days)
          } else expect(d.payload.days_remaining).toBeLessThanOrEqual(0)
        }
      }
    },
    runs,
  )
})

/**
 * The expiry events of a history read straight from the definition: per stream and expiry value,
 * the tightest threshold reported and whether expiry was reported; days from the scan, rounded down.
 */
const expiryByDefinition = (history: ReadonlyArray<RawEvent>, thresholds: ReadonlyArray<number>) => {
  const ascending = [...new Set(thresholds)].sort((a, b) => a - b)
  const marks = new Map<string, { reported: number | null; expired: boolean }>()
  const out: Array<[string, number | "expired", number]> = []
  for (const e of history) {
    const value =
      e.event_type === "DomainScanResult" ? e.payload.expires : e.event_type === "TlsScanResult" ? e.payload.cert_not_after : null
    if (!value) continue
    const key = `${e.event_type}|${e.aggregate_id}|${value}`
    const mark = marks.get(key) ?? { reported: null, expired: false }
    marks.set(key, mark)
    if (mark.expired) continue
    const at = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)
    const now = Date.parse(e.payload.scanned_at)
    const days = Math.floor((at - now) / 86_400_000)
    if (now >= at) {
      mark.expired = true
      out.push([e.event_id, "expired", days])
      continue
    }
    const t = ascending.find((t) => days <= t)
    if (t !== undefined && (mark.reported === null || t < mark.reported)) {
      mark.reported = t
      out.push([e.event_id, t, days])
    }
  }
  return out
}

/** Each event's predecessor in its own stream. */
const previousInStream = (history: ReadonlyArray<RawEvent>): Map<string, RawEvent> => {
  const last = new Map<string, RawEvent>()
  const previous = new Map<string, RawEvent>()
  for (const e of history) {
    const stream = `${e.aggregate_type}/${e.aggregate_id}`
    const before = last.get(stream)
    if (before !== undefined) previous.set(e.event_id, before)
    last.set(stream, e)
  }
  return previous
}
