// `import-history`: the scans recorded in the git history of an output repository, as raw events.
// git reads the pages (./git.ts), ./page-events.ts maps them (pure), the EventStore stores them.
// Event ids depend only on (entity, commit, event type), so a second import appends nothing. That
// holds only if the commit names one commit for good: a hash, never HEAD or a branch, which move
// (the same ids tomorrow for other scans, counted "already stored" and lost).
import { Data, Effect, Either } from "effect"
import type { Addressed } from "../events/envelope.js"
import type { Page } from "../inventory/pages.js"
import { PAGE_DIRS, parsePage } from "../inventory/pages.js"
import type { ImportCounts } from "./append.js"
import { appendAll, countByType } from "./append.js"
import { listFiles, readFiles, resolveCommit } from "./git.js"
import type { Snapshot } from "./page-events.js"
import { snapshotEvents } from "./page-events.js"

export type { Snapshot } from "./page-events.js"

/** A `--snapshot` that is not `COMMIT_HASH@ISO_TIME`. */
export class SnapshotSpecError extends Data.TaggedError("SnapshotSpecError")<{
  readonly spec: string
  readonly reason: string
}> {
  override get message(): string {
    return `--snapshot ${JSON.stringify(this.spec)}: ${this.reason}`
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

/**
 * A commit hash as git prints it, 7 to 40 lowercase hex digits. Lowercase only: the text goes into
 * the event ids, so `ABC1234` and `abc1234` would import the same scans twice under two ids.
 */
const COMMIT_HASH = /^[0-9a-f]{7,40}$/

/** `commit` if it is a commit hash; a ref (HEAD, a branch, `main@{1}`, `HEAD~1`) is refused. */
export const checkCommit = (commit: string, spec: string = commit): Either.Either<string, SnapshotSpecError> =>
  COMMIT_HASH.test(commit)
    ? Either.right(commit)
    : Either.left(
        new SnapshotSpecError({
          spec,
          reason: `${JSON.stringify(commit)} is not a commit hash: pass a commit hash (7 to 40 lowercase hex digits, e.g. from \`git log --format=%h\`); a ref like HEAD or a branch moves, and the same ids would then name other scans`,
        }),
      )

/**
 * `COMMIT_HASH@ISO_TIME`, split at the last `@`. The time needs a zone, so that `scanned_at`
 * names one instant wherever it is read.
 */
export const parseSnapshotSpec = (spec: string): Either.Either<Snapshot, SnapshotSpecError> => {
  const at = spec.lastIndexOf("@")
  if (at <= 0 || at === spec.length - 1) {
    return Either.left(new SnapshotSpecError({ spec, reason: "expected COMMIT_HASH@ISO_TIME, e.g. f9edbf8@2024-04-16T15:02:04+02:00" }))
  }
  const scannedAt = spec.slice(at + 1)
  if (!ISO_INSTANT.test(scannedAt) || Number.isNaN(Date.parse(scannedAt))) {
    return Either.left(
      new SnapshotSpecError({ spec, reason: `${JSON.stringify(scannedAt)} is not an ISO 8601 date-time with a zone` }),
    )
  }
  return Either.map(checkCommit(spec.slice(0, at), spec), (commit) => ({ commit, scannedAt }))
}

/** Snapshots in time order (stable for equal times), which is the order their events are appended in. */
export const chronological = (snapshots: ReadonlyArray<Snapshot>): ReadonlyArray<Snapshot> =>
  snapshots
    .map((s, i) => ({ s, i, t: Date.parse(s.scannedAt) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ s }) => s)

/**
 * The full id of the commit hash `commit`. git takes a ref of the same name before a short hash,
 * so a result that does not start with the hash came from a ref and is refused.
 */
export const resolveHash = Effect.fn("History.resolveHash")(function* (repo: string, commit: string) {
  yield* checkCommit(commit)
  const full = yield* resolveCommit(repo, commit)
  if (!full.startsWith(commit)) {
    return yield* new SnapshotSpecError({
      spec: commit,
      reason: `git resolves it to ${full} through a ref of that name: pass a longer commit hash`,
    })
  }
  return full
})

/**
 * Every page of the repository at the commit hash `commit`, read at its full id (resolved once:
 * git is never asked to resolve the name again); errors name the page as `COMMIT:path`. The `.md`
 * files in the page directories are pages; a README beside them is not.
 */
export const pagesAt = Effect.fn("History.pagesAt")(function* (repo: string, commit: string) {
  const resolved = yield* resolveHash(repo, commit)
  const entries = yield* listFiles(repo, resolved, Object.values(PAGE_DIRS), ".md")
  const files = yield* readFiles(repo, entries)
  const pages: Array<Page> = []
  for (const f of files) pages.push(yield* parsePage(`${commit}:${f.path}`, f.text))
  return { resolved, pages: pages as ReadonlyArray<Page> }
})

export interface SnapshotPlan {
  /** As the user gave it (it is in the event ids). */
  readonly commit: string
  /** The full commit id the pages were read at. */
  readonly resolved_commit: string
  readonly scanned_at: string
  /** Pages at the commit (of every kind). */
  readonly pages: number
  readonly events: ReadonlyArray<Addressed>
}

/**
 * Read and map every snapshot, before anything is appended: a bad page stops the import whole,
 * and a commit that is not a hash stops it before git is asked anything.
 */
export const planHistory = Effect.fn("History.plan")(function* (
  repo: string,
  snapshots: ReadonlyArray<Snapshot>,
  progress: (line: string) => Effect.Effect<void> = () => Effect.void,
) {
  for (const snapshot of snapshots) yield* checkCommit(snapshot.commit)
  const plans: Array<SnapshotPlan> = []
  for (const snapshot of chronological(snapshots)) {
    const { resolved, pages } = yield* pagesAt(repo, snapshot.commit)
    const events = yield* snapshotEvents(pages, snapshot)
    yield* progress(`${snapshot.commit}@${snapshot.scannedAt}: ${pages.length} pages, ${events.length} events`)
    plans.push({ commit: snapshot.commit, resolved_commit: resolved, scanned_at: snapshot.scannedAt, pages: pages.length, events })
  }
  return plans as ReadonlyArray<SnapshotPlan>
})

export interface HistoryImportOptions {
  readonly repo: string
  readonly snapshots: ReadonlyArray<Snapshot>
  /** Map and count, append nothing; the result then lists the events. */
  readonly dryRun?: boolean
  /** Progress lines (the CLI writes them to stderr). */
  readonly progress?: (line: string) => Effect.Effect<void>
}

export interface HistoryImportResult extends ImportCounts {
  readonly dry_run: boolean
  readonly snapshots: ReadonlyArray<{
    readonly commit: string
    readonly resolved_commit: string
    readonly scanned_at: string
    readonly pages: number
    readonly events: number
  }>
  /** The planned events, in append order: only on a dry run. */
  readonly events?: ReadonlyArray<Addressed>
}

/** Import the snapshots (or, with `dryRun`, say what would be imported). Needs `EventStore` and `CommandExecutor`. */
export const importHistory = Effect.fn("History.import")(function* (options: HistoryImportOptions) {
  const plans = yield* planHistory(options.repo, options.snapshots, options.progress)
  const events = plans.flatMap((p) => p.events)
  const snapshots = plans.map(({ commit, resolved_commit, scanned_at, pages, events }) => ({
    commit,
    resolved_commit,
    scanned_at,
    pages,
    events: events.length,
  }))
  if (options.dryRun) {
    return {
      dry_run: true,
      snapshots,
      planned: events.length,
      stored: 0,
      duplicates: 0,
      by_type: countByType(events),
      events,
    } satisfies HistoryImportResult as HistoryImportResult
  }
  const counts = yield* appendAll(events)
  return { dry_run: false, snapshots, ...counts } satisfies HistoryImportResult as HistoryImportResult
})
