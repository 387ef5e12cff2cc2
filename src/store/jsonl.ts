// The JSONL export/import format: one event a line. Pure.
import { Data, Either, ParseResult, Schema } from "effect"
import type { Addressed, StoredEvent } from "../events/envelope.js"
import { JsonObject } from "../events/envelope.js"

/**
 * One line of an export. `position` and `recorded_at` are written on export for the reader's sake
 * and ignored on import: the importing store assigns its own.
 */
export const ExportLine = Schema.Struct({
  bucket: Schema.NonEmptyString,
  aggregate_type: Schema.NonEmptyString,
  aggregate_id: Schema.NonEmptyString,
  position: Schema.optional(Schema.Number),
  event_id: Schema.NonEmptyString,
  event_type: Schema.NonEmptyString,
  payload: JsonObject,
  metadata: JsonObject,
  recorded_at: Schema.optional(Schema.String),
})
export type ExportLine = typeof ExportLine.Type

/** A line of an import file that is not an event; `field` is the path to the bad field, if any. */
export class ImportLineError extends Data.TaggedError("ImportLineError")<{
  readonly file: string
  readonly line: number
  readonly field: string | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `${this.file}:${this.line}: ${this.field === undefined ? "" : `${this.field}: `}${this.reason}`
  }
}

/** One stored event as one line of text, without the line break. Key order is fixed. */
export const encodeLine = (event: StoredEvent): string =>
  JSON.stringify({
    bucket: event.bucket,
    aggregate_type: event.aggregate_type,
    aggregate_id: event.aggregate_id,
    position: event.position,
    event_id: event.event_id,
    event_type: event.event_type,
    payload: event.payload,
    metadata: event.metadata,
    recorded_at: event.recorded_at,
  })

const decodeExportLine = Schema.decodeUnknownEither(ExportLine)

/** The first problem of a ParseError as a dotted field path (`payload.port`) and its message. */
const firstIssue = (error: ParseResult.ParseError): { field: string | undefined; reason: string } => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return { field: undefined, reason: error.message }
  return { field: issue.path.length === 0 ? undefined : issue.path.map(String).join("."), reason: issue.message }
}

/** Parse and validate one line. `at` names where it came from, for the error. */
export const decodeLine = (
  text: string,
  at: { readonly file: string; readonly line: number },
): Either.Either<ExportLine, ImportLineError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(
      new ImportLineError({ ...at, field: undefined, reason: `invalid JSON: ${e instanceof Error ? e.message : e}` }),
    )
  }
  return Either.mapLeft(decodeExportLine(json), (error) => new ImportLineError({ ...at, ...firstIssue(error) }))
}

/** The part of a line an append needs. */
export const toAddressed = (line: ExportLine): Addressed => ({
  stream: { bucket: line.bucket, aggregate_type: line.aggregate_type, aggregate_id: line.aggregate_id },
  event: { event_id: line.event_id, event_type: line.event_type, payload: line.payload, metadata: line.metadata },
})
