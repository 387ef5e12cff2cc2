// Stored events of `recon-scan` to the typed raw events the rules read. Pure.
import { Either, ParseResult, Schema } from "effect"
import { Data } from "effect"
import type { StoredEvent } from "../events/envelope.js"
import { fastGuard } from "../events/fast-guard.js"
import type { RawEvent } from "../events/raw.js"
import { DomainScanResultPayload, HostnameScanResultPayload, TlsScanResultPayload } from "../events/raw.js"

/** A stored raw event that does not match its schema: names where it is and which field is wrong. */
export class InvalidRawEvent extends Data.TaggedError("InvalidRawEvent")<{
  readonly bucket: string
  readonly stream: string
  readonly position: number
  readonly global_position: number
  readonly event_id: string
  readonly event_type: string
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return (
      `invalid ${this.event_type} in ${this.bucket}/${this.stream} at position ${this.position}` +
      ` (global ${this.global_position}, event ${this.event_id}): ${this.field}: ${this.reason}`
    )
  }
}

// The envelope's fields are already typed by the store; only the payload needs checking, by a
// guard compiled from its Schema (fast, takes the object as it is) and, when the guard is not
// sure, by the Schema itself, which also names the bad field.
const payloadDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  const guard = fastGuard(schema)
  return (u: unknown): Either.Either<unknown, ParseResult.ParseError> =>
    guard !== undefined && guard(u) ? Either.right(u) : decode(u)
}
const payloadDecoders = new Map([
  ["DomainScanResult", payloadDecoder(DomainScanResultPayload)],
  ["HostnameScanResult", payloadDecoder(HostnameScanResultPayload)],
  ["TlsScanResult", payloadDecoder(TlsScanResultPayload)],
])

/**
 * `Right(event)` for a raw event the rules know, `Right(undefined)` for an event type they do
 * not (a newer scanner's facts pass the fold untouched), `Left` for a known type that is malformed.
 */
export const decodeStored = (stored: StoredEvent): Either.Either<RawEvent | undefined, InvalidRawEvent> => {
  const decodePayload = payloadDecoders.get(stored.event_type)
  if (decodePayload === undefined) return Either.right(undefined)
  const result = decodePayload(stored.payload)
  if (Either.isRight(result))
    return Either.right({
      event_id: stored.event_id,
      event_type: stored.event_type,
      aggregate_type: stored.aggregate_type,
      aggregate_id: stored.aggregate_id,
      position: stored.position,
      global_position: stored.global_position,
      metadata: stored.metadata,
      payload: result.right,
    } as RawEvent)
  const issue = ParseResult.ArrayFormatter.formatErrorSync(result.left)[0]
  return Either.left(
    new InvalidRawEvent({
      bucket: stored.bucket,
      stream: `${stored.aggregate_type}/${stored.aggregate_id}`,
      position: stored.position,
      global_position: stored.global_position,
      event_id: stored.event_id,
      event_type: stored.event_type,
      field: issue ? ["payload", ...issue.path.map(String)].join(".") : "payload",
      reason: issue?.message ?? "does not match its schema",
    }),
  )
}
