// `xmon import-legacy`: the original's older adapter history (bucket `recon`) as raw events.
import { Command, Options } from "@effect/cli"
import { failIfParked, storeLayer, storeOption, storeWithOutbox } from "./store-option.js"
import { Console, Effect } from "effect"
import { outputDirConfig } from "../inventory/page-streams.js"
import { describeEvent } from "../importer/append.js"
import type { LegacyImportResult } from "../importer/legacy.js"
import { importLegacy } from "../importer/legacy.js"

const output = Options.text("output").pipe(
  Options.withFallbackConfig(outputDirConfig),
  Options.withDescription(
    "The output directory whose pages name the legacy streams (default: EZRECON_OUTPUT_DIR, else $EZRECON_INVENTORY_DIR/output, else ./output)",
  ),
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("Print what would be appended; append nothing"))
const json = Options.boolean("json").pipe(Options.withDescription("Print the result as JSON"))

/** The result for people: the counts, and on a dry run one line per event first. */
export const legacyReport = (r: LegacyImportResult): string => {
  const lines: Array<string> = []
  if (r.events) for (const e of r.events) lines.push(describeEvent(e))
  lines.push(`${r.legacy_events} legacy events in ${r.streams} streams`)
  for (const [type, n] of Object.entries(r.by_type)) lines.push(`${type}: ${n}`)
  for (const [type, n] of Object.entries(r.skipped)) lines.push(`skipped ${type}: ${n}`)
  lines.push(
    r.dry_run
      ? `dry run: ${r.planned} events would be appended (nothing written)`
      : `appended ${r.stored}, already stored ${r.duplicates}, of ${r.planned}`,
  )
  return lines.join("\n")
}

export const importLegacyCommand = Command.make("import-legacy", { output, dryRun, json, store: storeOption }, (o) =>
  Effect.gen(function* () {
    const result = yield* importLegacy({ outputDir: o.output, dryRun: o.dryRun, progress: (line) => Console.error(line) })
    yield* Console.log(o.json ? JSON.stringify(result, null, 2) : legacyReport(result))
    // a dry run has no outbox (see below): nothing of this run can wait there
    if (!o.dryRun) yield* failIfParked
  }),
).pipe(
  Command.withDescription(
    "Copy the original's legacy bucket `recon` (DomainScanned, HostnameResolved, AddressScanned, CertificateDiscovered) into recon-scan as raw events (idempotent)",
  ),
  // A dry run writes nothing: not even the events an earlier run left in the outbox, which opening
  // the outboxed store would send.
  Command.provide((o) => (o.dryRun ? storeLayer(o.store) : storeWithOutbox(o.store))),
)
