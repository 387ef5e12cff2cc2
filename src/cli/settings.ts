// Where things are, from the original's environment variables (DESIGN.md "Environment").
import { Config, Effect, Option } from "effect"
import * as path from "node:path"

/** `EZRECON_OUTPUT_DIR`, else `$EZRECON_INVENTORY_DIR/output`, else `./output`. */
export const outputDir = Effect.gen(function* () {
  const output = yield* Config.option(Config.string("EZRECON_OUTPUT_DIR"))
  if (Option.isSome(output) && output.value !== "") return output.value
  const inventory = yield* Config.withDefault(Config.string("EZRECON_INVENTORY_DIR"), ".")
  return path.join(inventory, "output")
}).pipe(Effect.orElseSucceed(() => "output"))

/** The embedded store's default file: `.xmon/events.db` under the output directory. */
export const defaultSqlitePath = Effect.map(outputDir, (dir) => path.join(dir, ".xmon", "events.db"))

export const umrathUrl = Config.option(Config.nonEmptyString("UMRATH_URL"))
