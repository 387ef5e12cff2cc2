// Which event streams the inventory pages imply. The Umrath protocol cannot list streams, so (like
// the original) the pages say which streams exist: one per domain, hostname and TLS endpoint.
//
// This reads the output directory with node:fs rather than @effect/platform's FileSystem, because
// the store backends take `(bucket) => Effect<refs, PageError>` with no requirements.
import { Config, Effect } from "effect"
import { readdir, readFile } from "node:fs/promises"
import { join, relative, sep } from "node:path"
import type { StreamRef } from "../events/envelope.js"
import { EVAL_BUCKET, SCAN_BUCKET } from "../events/envelope.js"
import type { Page, PageError } from "./pages.js"
import { PAGE_DIRS, PageReadError, parsePage } from "./pages.js"

const PAGE_DIR_NAMES: ReadonlySet<string> = new Set(Object.values(PAGE_DIRS))

/** The bucket the original's older adapter (`umrath_adapter.rb`) wrote to. */
export const LEGACY_BUCKET = "recon"

/** The streams a store backend should read for one bucket. */
export type PageStreams = (bucket: string) => Effect.Effect<ReadonlyArray<StreamRef>, PageError>

/** The TLS endpoint id of a direct scan of an ipv4 page (the original's convention). */
export const ipv4EndpointId = (ipv4PageId: string): string => `ipv4-${ipv4PageId}-443`

/**
 * Whether an ipv4 page has (or will have) a direct TLS stream: the original scans port 443 of
 * pages whose `status` is `up`, and writes `p443_status` once it did. Other ipv4 pages (most of a
 * range) have none, and asking Umrath for each would be one 404 per address.
 */
const hasDirectTls = (page: Page): boolean =>
  (page.fields["p443_status"] !== undefined && page.fields["p443_status"] !== null) || page.fields["status"] === "up"

const serialOf = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined

const ref = (bucket: string, aggregate_type: string, aggregate_id: string): StreamRef => ({
  bucket,
  aggregate_type,
  aggregate_id,
})

/**
 * The streams the pages imply in `bucket`, sorted by aggregate type then id, without duplicates.
 * - `recon-scan`: `DomainScan/{domain}`, `HostnameScan/{hostname}`, `TlsScan/{portscan}`,
 *   `TlsScan/ipv4-{ipv4}-443`.
 * - `recon-eval`: `Domain/…`, `Hostname/…`, `Endpoint/…` for the same entities, and
 *   `Certificate/{serial}` for the serials the pages hold now (older serials are not on any page).
 * - `recon` (legacy): `Domain/{domain}`, `NetworkHost/{hostname}`, `NetworkAddress/{ipv4}`,
 *   `PortScan/{portscan}`.
 * Any other bucket: none.
 */
export const streamsOfPages = (pages: ReadonlyArray<Page>, bucket: string): ReadonlyArray<StreamRef> => {
  const out = new Map<string, StreamRef>()
  const add = (type: string, id: string) => out.set(`${type}\u0000${id}`, ref(bucket, type, id))
  for (const page of pages) {
    switch (page.kind) {
      case "domain":
        if (bucket === SCAN_BUCKET) add("DomainScan", page.id)
        else if (bucket === EVAL_BUCKET) add("Domain", page.id)
        else if (bucket === LEGACY_BUCKET) add("Domain", page.id)
        break
      case "hostname":
        if (bucket === SCAN_BUCKET) add("HostnameScan", page.id)
        else if (bucket === EVAL_BUCKET) add("Hostname", page.id)
        else if (bucket === LEGACY_BUCKET) add("NetworkHost", page.id)
        break
      case "portscan": {
        if (bucket === SCAN_BUCKET) add("TlsScan", page.id)
        else if (bucket === EVAL_BUCKET) {
          add("Endpoint", page.id)
          const serial = serialOf(page.fields["cert_sn"])
          if (serial) add("Certificate", serial)
        } else if (bucket === LEGACY_BUCKET) add("PortScan", page.id)
        break
      }
      case "ipv4": {
        if (bucket === LEGACY_BUCKET) add("NetworkAddress", page.id)
        else if (hasDirectTls(page)) {
          if (bucket === SCAN_BUCKET) add("TlsScan", ipv4EndpointId(page.id))
          else if (bucket === EVAL_BUCKET) {
            add("Endpoint", ipv4EndpointId(page.id))
            const serial = serialOf(page.fields["p443_cert_sn"])
            if (serial) add("Certificate", serial)
          }
        }
        break
      }
      default:
        break
    }
  }
  return [...out.values()].sort((a, b) =>
    a.aggregate_type !== b.aggregate_type
      ? a.aggregate_type < b.aggregate_type
        ? -1
        : 1
      : a.aggregate_id < b.aggregate_id
        ? -1
        : a.aggregate_id > b.aggregate_id
          ? 1
          : 0,
  )
}

/**
 * The pages under `outputDir`, parsed, in path order: the `.md` files in the page directories
 * (`domains/`, `hostnames/`, …, at any depth below them). The original globbed every `**\/*.md`
 * and failed on a README; other Markdown beside the pages is not read.
 */
export const readPages = Effect.fn("Pages.read")(function* (outputDir: string) {
  const entries = yield* Effect.tryPromise({
    try: () => readdir(outputDir, { recursive: true, withFileTypes: true }),
    catch: (cause) => new PageReadError({ path: outputDir, reason: `cannot list the output directory: ${errorText(cause)}`, cause }),
  })
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => join(e.parentPath ?? outputDir, e.name))
    .filter((file) => PAGE_DIR_NAMES.has(relative(outputDir, file).split(sep)[0] ?? ""))
    .sort()
  return yield* Effect.forEach(
    files,
    (file) =>
      Effect.tryPromise({
        try: () => readFile(file, "utf8"),
        catch: (cause) => new PageReadError({ path: file, reason: `cannot read the page: ${errorText(cause)}`, cause }),
      }).pipe(Effect.flatMap((text) => parsePage(file, text))),
    { concurrency: 32 },
  )
})

/** The streams of each bucket implied by the pages under `outputDir`, read afresh on each call. */
export const pageStreams =
  (outputDir: string): PageStreams =>
  (bucket) =>
    readPages(outputDir).pipe(Effect.map((pages) => streamsOfPages(pages, bucket)))

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * The output directory as the original finds it: `EZRECON_OUTPUT_DIR`, else
 * `$EZRECON_INVENTORY_DIR/output`, else `output` (in the current directory).
 */
export const outputDirConfig: Config.Config<string> = Config.string("EZRECON_OUTPUT_DIR").pipe(
  Config.orElse(() => Config.string("EZRECON_INVENTORY_DIR").pipe(Config.map((dir) => join(dir, "output")))),
  Config.withDefault("output"),
)
