// Stored events of `recon-scan` to the typed raw events the rules read. Pure.
import { Either, ParseResult, Schema } from "effect"
import { Data } from "effect"
import type { StoredEvent } from "../events/envelope.js"
import { RAW_EVENT_TYPES, RawEvent } from "../events/raw.js"

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

const decodeRaw = Schema.decodeUnknownEither(RawEvent)

/**
 * `Right(event)` for a raw event the rules know, `Right(undefined)` for an event type they do
 * not (a newer scanner's facts pass the fold untouched), `Left` for a known type that is malformed.
 */
export const decodeStored = (stored: StoredEvent): Either.Either<RawEvent | undefined, InvalidRawEvent> => {
  if (!RAW_EVENT_TYPES.has(stored.event_type)) return Either.right(undefined)
  const result = decodeRaw(stored)
  if (Either.isRight(result)) return Either.right(result.right)
  const issue = ParseResult.ArrayFormatter.formatErrorSync(result.left)[0]
  return Either.left(
    new InvalidRawEvent({
      bucket: stored.bucket,
      stream: `${stored.aggregate_type}/${stored.aggregate_id}`,
      position: stored.position,
      global_position: stored.global_position,
      event_id: stored.event_id,
      event_type: stored.event_type,
      field: issue ? issue.path.map(String).join(".") || "(event)" : "(event)",
      reason: issue?.message ?? "does not match its schema",
    }),
  )
}
