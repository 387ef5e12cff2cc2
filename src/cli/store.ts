// `xmon store export|import`: a store's events as JSON lines and back.
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { READ_PAGE_LIMIT } from "../store/http-api.js"
import { exportAll, exportBucket, importFile } from "../store/transfer.js"
import { serveCommand } from "./serve.js"
import { writeLines } from "./stdout.js"
import { failIfParked, storeLayer, storeOption, storeWithOutbox } from "./store-option.js"

const bucket = Options.text("bucket").pipe(
  Options.optional,
  Options.withDescription("Export only this bucket (default: recon-scan, then recon-eval)"),
)

const exportCommand = Command.make("export", { bucket, store: storeOption }, (o) =>
  writeLines(Option.match(o.bucket, { onNone: () => exportAll(), onSome: exportBucket })),
).pipe(
  Command.withDescription("Write events as JSON lines to stdout, in store order: xmon store export > events.jsonl"),
  Command.provide((o) => storeLayer(o.store, { mustExist: true })),
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
    yield* failIfParked
  }),
).pipe(
  Command.withDescription(
    "Append the events of a JSONL file in line order; the whole file is checked first, and events already stored are skipped",
  ),
  Command.provide((o) => storeWithOutbox(o.store)),
)

// The server reads pages of READ_PAGE_LIMIT events; SQLite pages of the same size avoid reading twice.
const serve = serveCommand.pipe(
  Command.provide((o) => storeLayer(o.store, { pageSize: READ_PAGE_LIMIT, embeddedOnly: true })),
)

export const storeCommands = [exportCommand, importCommand, serve] as const
