// `import-legacy`: the history the original's older adapter wrote to bucket `recon`, copied into
// `recon-scan` as raw events (./legacy-events.ts maps them), so it is evaluated like any other.
// The legacy streams are found through the inventory pages, as the store may not list streams.
import { Effect, Either, Option, Stream } from "effect"
import type { Addressed, StoredEvent } from "../events/envelope.js"
import { LEGACY_BUCKET, pageStreams } from "../inventory/page-streams.js"
import { EventStore } from "../store/event-store.js"
import type { ImportCounts } from "./append.js"
import { appendAll, countByType } from "./append.js"
import { legacyEvent, orderForAppend } from "./legacy-events.js"

export interface LegacyImportOptions {
  /** The output directory whose pages name the legacy streams. */
  readonly outputDir: string
  readonly dryRun?: boolean
  readonly progress?: (line: string) => Effect.Effect<void>
}

export interface LegacyImportResult extends ImportCounts {
  readonly dry_run: boolean
  /** Legacy streams the pages name (many may be empty). */
  readonly streams: number
  /** Legacy events read. */
  readonly legacy_events: number
  /** Legacy events that record no scan fact, per type. */
  readonly skipped: Readonly<Record<string, number>>
  /** The planned events, in append order: only on a dry run. */
  readonly events?: ReadonlyArray<Addressed>
}

/** Import the legacy bucket (or, with `dryRun`, say what would be imported). Needs `EventStore`. */
export const importLegacy = Effect.fn("Legacy.import")(function* (options: LegacyImportOptions) {
  const progress = options.progress ?? (() => Effect.void)
  const store = yield* EventStore
  const refs = yield* pageStreams(options.outputDir)(LEGACY_BUCKET)
  yield* progress(`${refs.length} legacy streams named by the pages in ${options.outputDir}`)
  const perStream = yield* Effect.forEach(refs, (ref) => Stream.runCollect(store.readStream(ref, 0)), {
    concurrency: 8,
  })
  const legacy: ReadonlyArray<StoredEvent> = perStream.flatMap((chunk) => [...chunk])
  const mapped: Array<{ source: StoredEvent; event: Addressed }> = []
  const skipped: Record<string, number> = {}
  for (const source of legacy) {
    const result = legacyEvent(source)
    if (Either.isLeft(result)) return yield* Effect.fail(result.left)
    if (Option.isSome(result.right)) mapped.push({ source, event: result.right.value })
    else skipped[source.event_type] = (skipped[source.event_type] ?? 0) + 1
  }
  const events = orderForAppend(mapped)
  yield* progress(`${legacy.length} legacy events, ${events.length} to import`)
  const base = { streams: refs.length, legacy_events: legacy.length, skipped }
  if (options.dryRun) {
    return {
      dry_run: true,
      ...base,
      planned: events.length,
      stored: 0,
      duplicates: 0,
      by_type: countByType(events),
      events,
    } satisfies LegacyImportResult as LegacyImportResult
  }
  const counts = yield* appendAll(events)
  return { dry_run: false, ...base, ...counts } satisfies LegacyImportResult as LegacyImportResult
})
