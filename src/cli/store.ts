// `xmon store export|import`: a store's events as JSON lines and back.
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { exportAll, exportBucket, importFile } from "../store/transfer.js"
import { writeLines } from "./stdout.js"
import { storeLayer, storeOption } from "./store-option.js"

const bucket = Options.text("bucket").pipe(
  Options.optional,
  Options.withDescription("Export only this bucket (default: recon-scan, then recon-eval)"),
)

const exportCommand = Command.make("export", { bucket, store: storeOption }, (o) =>
  writeLines(Option.match(o.bucket, { onNone: () => exportAll(), onSome: exportBucket })),
).pipe(
  Command.withDescription("Write events as JSON lines to stdout, in store order: xmon store export > events.jsonl"),
  Command.provide((o) => storeLayer(o.store)),
)

const file = Args.file({ name: "file", exists: "yes" }).pipe(Args.withDescription("A JSONL file made by `xmon store export`"))
const json = Options.boolean("json").pipe(Options.withDescription("Print the counts as JSON"))

const importCommand = Command.make("import", { file, json, store: storeOption }, (o) =>
  Effect.gen(function* () {
    const result = yield* importFile(o.file)
    yield* Console.log(
      o.json
        ? JSON.stringify(result)
        : `${o.file}: ${result.lines} events, ${result.stored} stored, ${result.duplicates} already stored`,
    )
  }),
).pipe(
  Command.withDescription(
    "Append the events of a JSONL file in line order; the whole file is checked first, and events already stored are skipped",
  ),
  Command.provide((o) => storeLayer(o.store)),
)

export const storeCommands = [exportCommand, importCommand] as const
