// `xmon store export` / `xmon store import`: a store's events as JSONL and back.
import { FileSystem } from "@effect/platform"
import { Chunk, Data, Effect, Either, Stream } from "effect"
import { EVAL_BUCKET, SCAN_BUCKET } from "../events/envelope.js"
import type { StoreError } from "./event-store.js"
import { EventStore } from "./event-store.js"
import type { ExportLine } from "./jsonl.js"
import type { ImportLineError } from "./jsonl.js"
import { decodeLine, encodeLine, toAddressed } from "./jsonl.js"

/** The import file could not be read at all (missing, unreadable, not text). */
export class ImportFileError extends Data.TaggedError("ImportFileError")<{
  readonly path: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

export interface ImportResult {
  /** Event lines read (blank lines not counted). */
  readonly lines: number
  readonly stored: number
  readonly duplicates: number
}

/** Events per `appendBatch` (one transaction each on SQLite). */
export const IMPORT_BATCH_SIZE = 500

/** Every event of a bucket in the store's total order, one line each, each ending in "\n". */
export const exportBucket = (bucket: string): Stream.Stream<string, StoreError, EventStore> =>
  Stream.unwrap(Effect.map(EventStore, (store) => store.readBucket(bucket, 0))).pipe(
    Stream.map((event) => `${encodeLine(event)}\n`),
  )

/** The given buckets one after the other; by default raw facts (`recon-scan`) then `recon-eval`. */
export const exportAll = (
  buckets: ReadonlyArray<string> = [SCAN_BUCKET, EVAL_BUCKET],
): Stream.Stream<string, StoreError, EventStore> => Stream.flatten(Stream.fromIterable(buckets.map(exportBucket)))

/** The event lines of a file, decoded, failing at the first bad one. Blank lines are skipped. */
const eventLines = (
  fs: FileSystem.FileSystem,
  path: string,
): Stream.Stream<ExportLine, ImportLineError | ImportFileError> =>
  fs.stream(path).pipe(
    Stream.mapError((cause) => new ImportFileError({ path, reason: cause.message, cause })),
    // splitLines takes "\n", "\r\n" and a last line without a break alike.
    Stream.decodeText(),
    Stream.splitLines,
    Stream.zipWithIndex,
    Stream.mapChunksEffect((chunk) => {
      const out: Array<ExportLine> = []
      for (const [text, index] of chunk) {
        if (text.trim() === "") continue
        const decoded = decodeLine(text, { file: path, line: index + 1 })
        if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
        out.push(decoded.right)
      }
      return Effect.succeed(Chunk.unsafeFromArray(out))
    }),
  )

/**
 * Import a JSONL file: first validate every line (one bad line and nothing is appended), then
 * append in file order, in batches. Idempotent: a second import stores nothing and counts every
 * event as a duplicate. The file is read twice rather than held in memory, so size is no limit.
 */
export const importFile = Effect.fn("Store.importFile")(function* (
  path: string,
  options: { readonly batchSize?: number } = {},
) {
  const fs = yield* FileSystem.FileSystem
  const store = yield* EventStore
  const lines = yield* eventLines(fs, path).pipe(Stream.runCount)
  const totals = yield* eventLines(fs, path).pipe(
    Stream.grouped(Math.max(1, options.batchSize ?? IMPORT_BATCH_SIZE)),
    Stream.runFoldEffect({ stored: 0, duplicates: 0 }, (acc, batch) =>
      Effect.map(store.appendBatch(Chunk.toReadonlyArray(Chunk.map(batch, toAddressed))), (r) => ({
        stored: acc.stored + r.stored,
        duplicates: acc.duplicates + r.duplicates,
      })),
    ),
  )
  return { lines, ...totals } satisfies ImportResult
})
