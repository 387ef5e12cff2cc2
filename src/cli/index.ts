// The `xmon` command tree. Each command lives in its own module; this one only assembles them.
import { Command } from "@effect/cli"
import { evaluateCommand } from "./evaluate.js"
import { eventsCommand } from "./events.js"
import { handleCommand } from "./handle.js"
import { importHistoryCommand } from "./import-history.js"
import { importLegacyCommand } from "./import-legacy.js"
import { storeCommands } from "./store.js"

const store = Command.make("store").pipe(
  Command.withDescription("Move events in and out of a store"),
  Command.withSubcommands([...storeCommands]),
)

export const xmon = Command.make("xmon").pipe(
  Command.withDescription("Network reconnaissance and monitoring: every measurement kept as an event, every change told"),
  Command.withSubcommands([
    evaluateCommand,
    eventsCommand,
    store,
    importHistoryCommand,
    importLegacyCommand,
    handleCommand,
  ]),
)

export const cli = Command.run(xmon, { name: "xmon", version: "0.1.0" })
