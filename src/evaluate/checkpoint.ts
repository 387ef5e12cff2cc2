// How far `evaluate` got, and the fold state saved there. Both live in the store's checkpoint
// table (SQLite: committed with the derived events) or in EZRECON_EVAL_CHECKPOINT (Umrath).
import { Data, Either, ParseResult, Schema } from "effect"
import { fastGuardKeepingExcess } from "../events/fast-guard.js"

export const CHECKPOINT_NAME = "evaluate"
export const SNAPSHOT_NAME = "evaluate.snapshot"

/**
 * `streams` maps `AggregateType/id` to the last position whose derived events were emitted:
 * the original's "how many events per stream". `global_position` is where the store's total
 * order had got to.
 */
export const Checkpoint = Schema.Struct({
  format: Schema.Literal("xmon.evaluate.checkpoint"),
  version: Schema.Literal(1),
  fingerprint: Schema.String,
  global_position: Schema.Number,
  streams: Schema.Record({ key: Schema.String, value: Schema.Number }),
})
export type Checkpoint = typeof Checkpoint.Type

/**
 * The fold state after the event at `global_position`, whose id is `last_event_id`; `state` is
 * `snapshot.encodeState` output. A resumed run reads from that event on and checks it is still
 * the same: if the store's order moved (an HTTP store merged in a late event), it is not.
 */
export const Snapshot = Schema.Struct({
  format: Schema.Literal("xmon.evaluate.snapshot"),
  version: Schema.Literal(2),
  fingerprint: Schema.String,
  global_position: Schema.Number,
  last_event_id: Schema.NullOr(Schema.String),
  state: Schema.Array(Schema.Unknown),
})
export type Snapshot = typeof Snapshot.Type

/** A stored checkpoint that is not ours or not whole: refused, never guessed at. */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{
  readonly where: string
  readonly reason: string
}> {
  override get message(): string {
    return `checkpoint ${this.where} cannot be used: ${this.reason}. Run \`xmon evaluate --replay\` to rebuild it from the raw events.`
  }
}

const parse = <A, I>(schema: Schema.Schema<A, I>, text: string, where: string): Either.Either<A, CheckpointError> => {
  // A snapshot holds a map entry per stream: check it with the compiled guard, and let the
  // Schema speak only when something is wrong.
  const guard = fastGuardKeepingExcess(schema)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(new CheckpointError({ where, reason: `not JSON (${(e as Error).message})` }))
  }
  if (guard?.(json)) return Either.right(json as A)
  return Schema.decodeUnknownEither(schema)(json).pipe(
    Either.mapLeft((error) => {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
      const field = issue?.path.map(String).join(".") || "(top)"
      return new CheckpointError({ where, reason: `not an xmon evaluate checkpoint (${field}: ${issue?.message ?? "invalid"})` })
    }),
  )
}

export const parseCheckpoint = (text: string, where: string) => parse(Checkpoint, text, where)
export const parseSnapshot = (text: string, where: string) => parse(Snapshot, text, where)
