// `xmon evaluate`: fold recon-scan into recon-eval.
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { makeRules } from "../evaluate/rules/index.js"
import { runEvaluation } from "../evaluate/runner.js"
import { invalidFlag } from "./errors.js"
import { evaluationReport } from "./render.js"
import { storeOption, storeWithOutbox } from "./store-option.js"

const replay = Options.boolean("replay").pipe(
  Options.withDescription("Ignore the checkpoint: evaluate the whole history again and re-emit (idempotent)"),
)
const skipInvalid = Options.boolean("skip-invalid").pipe(
  Options.withDescription("Report and count raw events that fail their schema instead of stopping"),
)
const commitEvery = Options.integer("commit-every").pipe(
  Options.withDefault(100_000),
  Options.mapEffect((n) =>
    n >= 1 ? Effect.succeed(n) : Effect.fail(invalidFlag(`--commit-every ${n}: expected a positive number of events`)),
  ),
  Options.withDescription("Raw events between commits of recon-eval and the checkpoint (a killed run redoes at most this many)"),
)
const json = Options.boolean("json").pipe(Options.withDescription("Print the summary as JSON"))

/** `30,14,7,1`: positive whole days. */
const parseThresholds = (text: string) => {
  const days = text.split(",").map((s) => Number(s.trim()))
  return days.every((d) => Number.isInteger(d) && d > 0)
    ? Effect.succeed(days)
    : Effect.fail(invalidFlag(`--expiry-thresholds ${JSON.stringify(text)}: expected positive whole days, e.g. 30,14,7,1`))
}
const thresholds = Options.text("expiry-thresholds").pipe(
  Options.mapEffect(parseThresholds),
  Options.withDescription("Days before an expiry to warn at, comma-separated (default 30,14,7,1)"),
  Options.optional,
)

export const evaluateCommand = Command.make(
  "evaluate",
  { replay, skipInvalid, json, thresholds, commitEvery, store: storeOption },
  (o) =>
    Effect.gen(function* () {
      const summary = yield* runEvaluation({
        rules: makeRules(Option.match(o.thresholds, { onNone: () => ({}), onSome: (expiryThresholds) => ({ expiryThresholds }) })),
        replay: o.replay,
        skipInvalid: o.skipInvalid,
        commitEvery: o.commitEvery,
      })
      yield* Console.log(o.json ? JSON.stringify(summary, null, 2) : evaluationReport(summary))
    }),
).pipe(
  Command.withDescription("Fold the raw scan events (recon-scan) through every rule and append what changed to recon-eval"),
  // Raw events parked by an earlier run against a dead HTTP store go in before the fold.
  Command.provide((o) => storeWithOutbox(o.store, { mustExist: true })),
)
