// Building derived events: deterministic ids, cause fields, time arithmetic. All pure.
import { createHash } from "node:crypto"
import type { DerivedEvent, DerivedEventType, DerivedPayload } from "../events/derived.js"
import { DERIVED_AGGREGATE_TYPE } from "../events/derived.js"
import { EVAL_METADATA } from "../events/envelope.js"
import { parseInstant } from "../events/instant.js"
import type { RawEvent, TlsScanResult } from "../events/raw.js"

/** sha256 of the text, cut 8-4-4-4-12 like a UUID (the original's id shape). */
export const uuidFromText = (text: string): string => {
  const h = createHash("sha256").update(text).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** The id of a derived event: same rule, cause and discriminator, same id, on every replay. */
export const derivedEventId = (rule: string, sourceEventId: string, discriminator: string): string =>
  uuidFromText(`${rule}:${sourceEventId}:${discriminator}`)

/**
 * One derived event caused by `source`. `detected_at` is the source's `scanned_at`.
 * `discriminator` tells apart several events one rule derives from the same source
 * (defaults to the event type).
 */
export const derive = <T extends DerivedEventType>(
  rule: string,
  source: RawEvent,
  type: T,
  aggregateId: string,
  payload: DerivedPayload<T>,
  discriminator: string = type,
): DerivedEvent =>
  ({
    aggregate_type: DERIVED_AGGREGATE_TYPE[type],
    aggregate_id: aggregateId,
    event_id: derivedEventId(rule, source.event_id, discriminator),
    event_type: type,
    payload: { ...payload, source_event_id: source.event_id, detected_at: source.payload.scanned_at },
    metadata: { ...EVAL_METADATA },
  }) as unknown as DerivedEvent

/** `ip`, `port` and, only when the scan had one, `hostname`: the fields every Endpoint event carries. */
export const endpointFields = (
  event: TlsScanResult,
): { ip: string | null; port: number | null; hostname?: string } => {
  const { ip, port, hostname } = event.payload
  const base = { ip: ip ?? null, port: port ?? null }
  return hostname ? { ...base, hostname } : base
}

export const DAY_MS = 86_400_000

/** Whole days from `fromIso` to `toMs`, rounded down (negative once past). */
export const daysUntil = (fromIso: string, toMs: number): number => Math.floor((toMs - parseInstant(fromIso)) / DAY_MS)

/** A domain's `expires` (YYYY-MM-DD, or a full instant) as an instant: a bare date means 00:00 UTC. */
export const expiryInstant = (expires: string): number => parseInstant(expires)

export const sortedUnique = (xs: ReadonlyArray<string>): Array<string> => [...new Set(xs)].sort()
