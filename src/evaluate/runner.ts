// The effectful shell around the fold: read `recon-scan`, fold, append to `recon-eval`, and keep
// the checkpoint (and a snapshot of the fold state) so the next run only does the new work.
import { Chunk, Data, Effect, Either, Option, Stream } from "effect"
import type { Addressed } from "../events/envelope.js"
import { EVAL_BUCKET, SCAN_BUCKET } from "../events/envelope.js"
import type { RawEvent } from "../events/raw.js"
import { EventStore, type StoreError } from "../store/event-store.js"
import {
  CHECKPOINT_NAME,
  type Checkpoint,
  parseCheckpoint,
  parseSnapshot,
  type Snapshot,
  SNAPSHOT_NAME,
} from "./checkpoint.js"
import { decodeStored, InvalidRawEvent } from "./decode.js"
import { foldInto, initialState } from "./fold.js"
import { fingerprint, type Rule } from "./rule.js"
import { decodeState, encodeState } from "./snapshot.js"

export interface EvaluateOptions {
  readonly rules: ReadonlyArray<Rule>
  /** Ignore the checkpoint: fold from offset zero and re-emit everything (ids make it idempotent). */
  readonly replay?: boolean
  /** Report and count raw events that fail their schema instead of stopping. */
  readonly skipInvalid?: boolean
  /** Derived events per commit. */
  readonly batchSize?: number
  /** Raw events between commits when little is derived, so a killed run loses little work. */
  readonly commitEvery?: number
}

export interface EvaluationSummary {
  /** `incremental`: resumed after a checkpoint; `replay`: asked for; `full`: no usable checkpoint. */
  readonly mode: "incremental" | "replay" | "full"
  readonly reason: string
  /** Global position of the snapshot the fold resumed from (0: folded from offset zero). */
  readonly resumed_from: number
  /** Raw events folded in this run, and how many of them were past the checkpoint. */
  readonly raw_events: number
  readonly new_raw_events: number
  readonly skipped_invalid: number
  readonly invalid: ReadonlyArray<string>
  /** Derived events emitted in this run, by type. */
  readonly derived: Readonly<Record<string, number>>
  readonly stored: number
  readonly duplicates: number
  readonly checkpoint: { readonly global_position: number; readonly streams: number; readonly fingerprint: string }
}

/** The store's order no longer extends the snapshot's (an HTTP store merged in a late event). */
class OrderChanged extends Data.TaggedError("OrderChanged")<{ readonly found: string; readonly expected: string }> {}

/**
 * Emitted-through positions per stream (`AggregateType/id`): the saved record (never changed, so
 * a retried fold can start from it again) plus what this run changed, kept by type then id so the
 * hot path builds no key string per event.
 */
class Positions {
  private readonly changed = new Map<string, Map<string, number>>()
  private readonly savedAny: boolean
  constructor(private readonly saved: Readonly<Record<string, number>>) {
    this.savedAny = Object.keys(saved).length > 0
  }
  get(e: RawEvent): number {
    const changed = this.changed.get(e.aggregate_type)?.get(e.aggregate_id)
    if (changed !== undefined || !this.savedAny) return changed ?? 0
    const key = `${e.aggregate_type}/${e.aggregate_id}`
    return Object.hasOwn(this.saved, key) ? this.saved[key]! : 0
  }
  set(e: RawEvent, position: number): void {
    let ids = this.changed.get(e.aggregate_type)
    if (ids === undefined) this.changed.set(e.aggregate_type, (ids = new Map()))
    ids.set(e.aggregate_id, position)
  }
  toRecord(): Record<string, number> {
    const out: Record<string, number> = { ...this.saved }
    for (const [type, ids] of this.changed) for (const [id, position] of ids) out[`${type}/${id}`] = position
    return out
  }
}

const MAX_REPORTED_INVALID = 20
const SNAPSHOT_EVERY = 5000

export const runEvaluation = Effect.fn("Evaluate.run")(function* (options: EvaluateOptions) {
  const store = yield* EventStore
  const rules = options.rules
  const fp = fingerprint(rules)
  const where = (name: string) => `"${name}" in ${store.describe}`

  // What was emitted before: only a checkpoint made by this very rule set counts.
  let checkpoint: Checkpoint | undefined
  let mode: EvaluationSummary["mode"] = options.replay ? "replay" : "full"
  let reason = options.replay ? "--replay: every raw event evaluated and re-emitted" : "no checkpoint yet"
  if (!options.replay) {
    const text = yield* store.loadCheckpoint(CHECKPOINT_NAME)
    if (Option.isSome(text)) {
      const parsed = yield* parseCheckpoint(text.value, where(CHECKPOINT_NAME))
      if (parsed.fingerprint === fp) {
        checkpoint = parsed
        mode = "incremental"
        reason = `resumed after global position ${parsed.global_position}`
      } else {
        reason = "the rule set changed since the checkpoint: rebuilt from offset zero"
      }
    }
  }

  // Where the fold may start: a snapshot of the same rule set no later than the checkpoint.
  let snapshot: Snapshot | undefined
  if (checkpoint) {
    const text = yield* store.loadCheckpoint(SNAPSHOT_NAME)
    if (Option.isSome(text)) {
      const parsed = parseSnapshot(text.value, where(SNAPSHOT_NAME))
      // Only a shortcut: a snapshot that cannot be read costs a fold from zero, not the run.
      if (Either.isLeft(parsed))
        yield* Effect.logWarning(`snapshot ${parsed.left.where} is unusable (${parsed.left.reason}): folding from offset zero`)
      else if (parsed.right.fingerprint === fp && parsed.right.global_position <= checkpoint.global_position)
        snapshot = parsed.right
    }
  }

  const emittedThrough = checkpoint?.streams ?? {}
  const batchSize = options.batchSize ?? 5000
  const commitEvery = options.commitEvery ?? 100_000

  const fold = (from: Snapshot | undefined) =>
    Effect.gen(function* () {
      // decodeState builds fresh objects, so the decoded state is already the fold's own.
      const states = from ? (decodeState(from.state) as Array<unknown>) : [...initialState(rules)]
      let lastEventId = from?.last_event_id ?? null
      const emitted = new Positions(emittedThrough)
      const derivedCounts: Record<string, number> = {}
      const invalid: Array<string> = []
      let rawEvents = 0
      let newRawEvents = 0
      let skipped = 0
      let stored = 0
      let duplicates = 0
      let globalPosition = from?.global_position ?? 0
      let pending: Array<Addressed> = []
      let sinceCommit = 0

      let streamCount = Object.keys(emittedThrough).length
      const checkpointValue = (): string => {
        const streams = emitted.toRecord()
        streamCount = Object.keys(streams).length
        return JSON.stringify({
          format: "xmon.evaluate.checkpoint",
          version: 1,
          fingerprint: fp,
          global_position: Math.max(globalPosition, checkpoint?.global_position ?? 0),
          streams,
        } satisfies Checkpoint)
      }

      const commit = (withSnapshot: boolean) =>
        Effect.suspend(() => {
          const batch = pending
          pending = []
          sinceCommit = 0
          const writes = [{ name: CHECKPOINT_NAME, value: checkpointValue() }]
          if (withSnapshot)
            writes.push({
              name: SNAPSHOT_NAME,
              value: JSON.stringify({
                format: "xmon.evaluate.snapshot",
                version: 2,
                fingerprint: fp,
                global_position: globalPosition,
                last_event_id: lastEventId,
                state: encodeState(states) as ReadonlyArray<unknown>,
              } satisfies Snapshot),
            })
          return store.appendBatch(batch, writes).pipe(
            Effect.tap((r) => {
              stored += r.stored
              duplicates += r.duplicates
            }),
          )
        })

      // Resuming, read from the snapshot's last event on, to check the order still extends it.
      let mustMatch = from && from.global_position > 0 ? from.last_event_id : null
      const after = (from?.global_position ?? 0) - (mustMatch === null ? 0 : 1)
      const decoded = store.readBucket(SCAN_BUCKET, after).pipe(
        Stream.mapChunksEffect((chunk) =>
          Effect.suspend((): Effect.Effect<Chunk.Chunk<RawEvent>, InvalidRawEvent | OrderChanged> => {
            const out: Array<RawEvent> = []
            for (const stored of chunk) {
              if (mustMatch !== null) {
                if (stored.event_id !== mustMatch)
                  return Effect.fail(new OrderChanged({ found: stored.event_id, expected: mustMatch }))
                mustMatch = null
                continue
              }
              lastEventId = stored.event_id
              globalPosition = stored.global_position
              const result = decodeStored(stored)
              if (Either.isLeft(result)) {
                if (!options.skipInvalid) return Effect.fail(result.left)
                skipped++
                if (invalid.length < MAX_REPORTED_INVALID) invalid.push(result.left.message)
                continue
              }
              if (result.right === undefined) continue
              out.push(result.right)
            }
            return Effect.succeed(Chunk.unsafeFromArray(out))
          }),
        ),
      )

      yield* decoded.pipe(
        foldInto(rules, states),
        Stream.runForEachChunk((chunk) =>
          Effect.suspend((): Effect.Effect<unknown, StoreError> => {
            for (const { source, derived } of chunk) {
              rawEvents++
              sinceCommit++
              if (source.position <= emitted.get(source)) continue
              newRawEvents++
              emitted.set(source, source.position)
              for (const d of derived) {
                derivedCounts[d.event_type] = (derivedCounts[d.event_type] ?? 0) + 1
                pending.push({
                  stream: { bucket: EVAL_BUCKET, aggregate_type: d.aggregate_type, aggregate_id: d.aggregate_id },
                  event: { event_id: d.event_id, event_type: d.event_type, payload: d.payload, metadata: d.metadata },
                })
              }
            }
            return pending.length >= batchSize || sinceCommit >= commitEvery ? commit(false) : Effect.void
          }),
        ),
      )
      // The snapshot's last event is gone altogether: this is not the history it was made from.
      if (mustMatch !== null) return yield* new OrderChanged({ found: "nothing", expected: mustMatch })
      // Writing the snapshot costs about as much as folding a few thousand events, so a run that
      // folded only a few leaves the older snapshot in place; the next run re-folds from there.
      yield* commit(from === undefined || rawEvents >= SNAPSHOT_EVERY)

      return {
        mode,
        reason,
        resumed_from: from?.global_position ?? 0,
        raw_events: rawEvents,
        new_raw_events: newRawEvents,
        skipped_invalid: skipped,
        invalid,
        derived: derivedCounts,
        stored,
        duplicates,
        checkpoint: {
          global_position: Math.max(globalPosition, checkpoint?.global_position ?? 0),
          streams: streamCount,
          fingerprint: fp,
        },
      } satisfies EvaluationSummary
    })

  return yield* fold(snapshot).pipe(
    Effect.catchTag("OrderChanged", (e) =>
      Effect.logWarning(
        `the store's order changed under the snapshot (event ${e.found} where ${e.expected} was): folding from offset zero`,
      ).pipe(
        Effect.zipRight(fold(undefined)),
      ),
    ),
  )
})

