// Where things are, from the original's environment variables (DESIGN.md "Environment").
import { Config, Effect } from "effect"
import * as path from "node:path"
import { outputDirConfig } from "../inventory/page-streams.js"

/** `EZRECON_OUTPUT_DIR`, else `$EZRECON_INVENTORY_DIR/output`, else `./output`. */
export const outputDir: Effect.Effect<string> = Effect.orElseSucceed(outputDirConfig, () => "output")

/** The embedded store's default file: `.xmon/events.db` under the output directory. */
export const defaultSqlitePath = Effect.map(outputDir, (dir) => path.join(dir, ".xmon", "events.db"))

export const umrathUrl = Config.option(Config.nonEmptyString("UMRATH_URL"))

/** A bearer token for the HTTP store (`xmon store serve --token-file`), if it asks for one. */
export const umrathToken = Config.option(Config.nonEmptyString("UMRATH_TOKEN"))
