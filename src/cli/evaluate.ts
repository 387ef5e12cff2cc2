// `xmon evaluate`: fold recon-scan into recon-eval.
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { makeRules } from "../evaluate/rules/index.js"
import { runEvaluation } from "../evaluate/runner.js"
import { UsageError } from "./errors.js"
import { evaluationReport } from "./render.js"
import { storeLayer, storeOption } from "./store-option.js"

const replay = Options.boolean("replay").pipe(
  Options.withDescription("Ignore the checkpoint: evaluate the whole history again and re-emit (idempotent)"),
)
const skipInvalid = Options.boolean("skip-invalid").pipe(
  Options.withDescription("Report and count raw events that fail their schema instead of stopping"),
)
const commitEvery = Options.integer("commit-every").pipe(
  Options.withDefault(100_000),
  Options.withDescription("Raw events between commits of recon-eval and the checkpoint (a killed run redoes at most this many)"),
)
const json = Options.boolean("json").pipe(Options.withDescription("Print the summary as JSON"))
const thresholds = Options.text("expiry-thresholds").pipe(
  Options.withDescription("Days before an expiry to warn at, comma-separated (default 30,14,7,1)"),
  Options.optional,
)

export const evaluateCommand = Command.make(
  "evaluate",
  { replay, skipInvalid, json, thresholds, commitEvery, store: storeOption },
  (o) =>
    Effect.gen(function* () {
      const expiryThresholds = yield* parseThresholds(o.thresholds)
      if (o.commitEvery < 1)
        return yield* new UsageError({ message: `--commit-every ${o.commitEvery}: expected a positive number of events` })
      const summary = yield* runEvaluation({
        rules: makeRules(expiryThresholds ? { expiryThresholds } : {}),
        replay: o.replay,
        skipInvalid: o.skipInvalid,
        commitEvery: o.commitEvery,
      })
      yield* Console.log(o.json ? JSON.stringify(summary, null, 2) : evaluationReport(summary))
    }),
).pipe(
  Command.withDescription("Fold the raw scan events (recon-scan) through every rule and append what changed to recon-eval"),
  Command.provide((o) => storeLayer(o.store)),
)

const parseThresholds = (value: Option.Option<string>): Effect.Effect<ReadonlyArray<number> | undefined, UsageError> =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) => {
      const days = text.split(",").map((s) => Number(s.trim()))
      return days.length > 0 && days.every((d) => Number.isInteger(d) && d > 0)
        ? Effect.succeed(days)
        : Effect.fail(
            new UsageError({ message: `--expiry-thresholds ${JSON.stringify(text)}: expected positive whole days, e.g. 30,14,7,1` }),
          )
    },
  })
