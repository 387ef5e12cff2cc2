// `xmon import-history`: the scans recorded in an output repository's git history, as raw events.
import { Command, Options } from "@effect/cli"
import { failIfParked, storeLayer, storeOption, storeWithOutbox } from "./store-option.js"
import { Console, Effect } from "effect"
import { describeEvent } from "../importer/append.js"
import type { HistoryImportResult, Snapshot } from "../importer/history.js"
import { importHistory, parseSnapshotSpec } from "../importer/history.js"

const repo = Options.directory("repo").pipe(
  Options.withDescription("The output directory's git repository (the pages at each commit are read with git)"),
)
const snapshot = Options.text("snapshot").pipe(
  Options.atLeast(1),
  Options.withDescription(
    "COMMIT_HASH@ISO_TIME: a commit hash (not HEAD or a branch, which move) and when its scans were made (the events' scanned_at); repeat for each snapshot",
  ),
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would be appended; append nothing"))
const json = Options.boolean("json").pipe(Options.withDescription("Print the result as JSON"))

/** The result for people: the counts, and on a dry run one line per event first. */
export const historyReport = (r: HistoryImportResult): string => {
  const lines: Array<string> = []
  if (r.events) for (const e of r.events) lines.push(describeEvent(e))
  for (const s of r.snapshots) lines.push(`snapshot ${s.commit}@${s.scanned_at}: ${s.pages} pages, ${s.events} events`)
  for (const [type, n] of Object.entries(r.by_type)) lines.push(`${type}: ${n}`)
  lines.push(
    r.dry_run
      ? `dry run: ${r.planned} events would be appended (nothing written)`
      : `appended ${r.stored}, already stored ${r.duplicates}, of ${r.planned}`,
  )
  return lines.join("\n")
}

export const importHistoryCommand = Command.make(
  "import-history",
  { repo, snapshot, dryRun, json, store: storeOption },
  (o) =>
    Effect.gen(function* () {
      const snapshots: Array<Snapshot> = []
      for (const spec of o.snapshot) snapshots.push(yield* parseSnapshotSpec(spec))
      const result = yield* importHistory({
        repo: o.repo,
        snapshots,
        dryRun: o.dryRun,
        progress: (line) => Console.error(line),
      })
      yield* Console.log(o.json ? JSON.stringify(result, null, 2) : historyReport(result))
      // a dry run has no outbox (see below): nothing of this run can wait there
      if (!o.dryRun) yield* failIfParked
    }),
).pipe(
  Command.withDescription(
    "Append the scans recorded at given commits of an output repository to recon-scan (idempotent: ids depend on entity, commit and type)",
  ),
  // A dry run writes nothing: not even the events an earlier run left in the outbox, which opening
  // the outboxed store would send.
  Command.provide((o) => (o.dryRun ? storeLayer(o.store) : storeWithOutbox(o.store))),
)
