// What both importers do last: append a planned list of events, in order, in batches, and count.
import { Effect } from "effect"
import type { Addressed } from "../events/envelope.js"
import { streamKey } from "../events/envelope.js"
import { EventStore } from "../store/event-store.js"
// The same batch size as `xmon store import`: one HTTP body, one short SQLite transaction.
// (Its loop folds over a stream of file lines and exports nothing to call with a list.)
import { IMPORT_BATCH_SIZE } from "../store/transfer.js"

export interface ImportCounts {
  /** Events the import maps from its input. */
  readonly planned: number
  /** Events newly written (0 on a dry run, and on a second run). */
  readonly stored: number
  /** Events the store already had (same `event_id`). */
  readonly duplicates: number
  /** Planned events per event type. */
  readonly by_type: Readonly<Record<string, number>>
}

export const countByType = (events: ReadonlyArray<Addressed>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const e of events) out[e.event.event_type] = (out[e.event.event_type] ?? 0) + 1
  return out
}

/** Append `events` in the given order (which becomes the store's order), `batchSize` at a time. */
export const appendAll = Effect.fn("Import.append")(function* (
  events: ReadonlyArray<Addressed>,
  batchSize: number = IMPORT_BATCH_SIZE,
) {
  const store = yield* EventStore
  let stored = 0
  let duplicates = 0
  for (let i = 0; i < events.length; i += batchSize) {
    const r = yield* store.appendBatch(events.slice(i, i + batchSize))
    stored += r.stored
    duplicates += r.duplicates
  }
  return { planned: events.length, stored, duplicates, by_type: countByType(events) } satisfies ImportCounts
})

/** One line per planned event, for `--dry-run`: `TYPE stream event_id`. */
export const describeEvent = (e: Addressed): string => `${e.event.event_type} ${streamKey(e.stream)} ${e.event.event_id}`
