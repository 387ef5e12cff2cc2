// Inventory pages: Markdown files with YAML frontmatter, as the original (Ruby) writes them under
// the output directory (`domains/`, `hostnames/`, `ip_ranges/`, `ipv4s/`, `portscans/`, `asns/`).
// Pure: text in, a typed page or a typed error out.
//
// The original writes frontmatter with Ruby's `to_yaml`, so pages hold Ruby symbols as plain
// scalars (`status: :up`, `- :nxdomain`) and sometimes `!ruby/...` tags. Both are read, never
// rejected: a plain scalar `:name` becomes `name`; a `!ruby/...` tag is dropped and its value kept
// (the `yaml` package does that for unknown tags, with a warning we ignore). A quoted `':name'` stays
// as written, because Ruby quotes a string that merely starts with a colon.
import { Data, Either } from "effect"
import YAML, { isMap, isScalar, LineCounter } from "yaml"

/** The file has no frontmatter, or its YAML does not parse, or it is not a mapping. */
export class PageParseError extends Data.TaggedError("PageParseError")<{
  readonly file: string
  readonly line?: number
  readonly reason: string
}> {
  override get message(): string {
    return `${this.file}${this.line !== undefined ? `:${this.line}` : ""}: ${this.reason}`
  }
}

/** One field of a page holds something that cannot be what the field means. */
export class PageFieldError extends Data.TaggedError("PageFieldError")<{
  readonly file: string
  readonly field: string
  readonly line?: number
  readonly reason: string
}> {
  override get message(): string {
    return `${this.file}${this.line !== undefined ? `:${this.line}` : ""}: field "${this.field}": ${this.reason}`
  }
}

/** The output directory or a page could not be read from disk. */
export class PageReadError extends Data.TaggedError("PageReadError")<{
  readonly path: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

export type PageError = PageParseError | PageFieldError | PageReadError

export const PAGE_KINDS = ["domain", "hostname", "ip_range", "ipv4", "portscan", "asn"] as const
export type PageKind = (typeof PAGE_KINDS)[number]

/** The directory the original writes each kind of page to. */
export const PAGE_DIRS: Readonly<Record<PageKind, string>> = {
  domain: "domains",
  hostname: "hostnames",
  ip_range: "ip_ranges",
  ipv4: "ipv4s",
  portscan: "portscans",
  asn: "asns",
}

export interface Page {
  /** Where the page came from (a path, or `COMMIT:path` for a page read from git), for messages. */
  readonly file: string
  /**
   * From `_type`, as the original decides (it globs every page and filters on `_type`); a page
   * without `_type` takes the kind of its directory. Undefined for kinds we do not know.
   */
  readonly kind: PageKind | undefined
  /** The frontmatter `id`, or the file name without `.md` (ipv4 and portscan pages have no `id`). */
  readonly id: string
  /** The frontmatter, Ruby symbols unwrapped. */
  readonly fields: Readonly<Record<string, unknown>>
  /** The line of each top-level key in the file, for messages. */
  readonly lines: ReadonlyMap<string, number>
}

const isKind = (s: string): s is PageKind => (PAGE_KINDS as ReadonlyArray<string>).includes(s)

const baseName = (file: string): string => {
  const last = file.split(/[/\\:]/).pop() ?? file
  return last.endsWith(".md") ? last.slice(0, -3) : last
}

const dirKind = (file: string): PageKind | undefined => {
  const parts = file.split(/[/\\:]/)
  const dir = parts[parts.length - 2]
  return PAGE_KINDS.find((k) => PAGE_DIRS[k] === dir)
}

const CLOSING = /^(---|\.\.\.)[ \t]*\r?$/

/**
 * The YAML text of the frontmatter: from the opening `---` line (kept, so YAML line numbers are
 * the file's) up to the closing `---` line. Ruby writes `--- {}` for an empty page, which YAML reads.
 */
const frontmatterOf = (file: string, text: string): Either.Either<string, PageParseError> => {
  const lines = text.replace(/^\uFEFF/, "").split("\n")
  if (!lines[0]?.startsWith("---")) {
    return Either.left(new PageParseError({ file, line: 1, reason: "no frontmatter: a page begins with a --- line" }))
  }
  const end = lines.findIndex((l, i) => i > 0 && CLOSING.test(l))
  if (end < 0) {
    return Either.left(new PageParseError({ file, reason: "frontmatter is not closed by a --- line" }))
  }
  return Either.right(lines.slice(0, end).join("\n") + "\n")
}

const RUBY_SYMBOL = /^:([A-Za-z_][A-Za-z0-9_]*[?!=]?)$/
const RUBY_QUOTED_SYMBOL = /^:"(.*)"$/

/** A Ruby symbol written as a plain scalar, without its colon; anything else unchanged. */
export const unwrapRubySymbol = (s: string): string => {
  const m = RUBY_SYMBOL.exec(s) ?? RUBY_QUOTED_SYMBOL.exec(s)
  return m?.[1] ?? s
}

/** Parse one page. `file` names it in errors and gives the fallback id and kind. */
export const parsePage = (file: string, text: string): Either.Either<Page, PageParseError | PageFieldError> =>
  Either.flatMap(frontmatterOf(file, text), (source): Either.Either<Page, PageParseError | PageFieldError> => {
    const lineCounter = new LineCounter()
    const doc = YAML.parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true })
    const first = doc.errors[0]
    if (first) {
      const line = lineCounter.linePos(first.pos[0]).line
      return Either.left(
        new PageParseError({ file, ...(line !== undefined ? { line } : {}), reason: first.message.split("\n")[0] ?? first.message }),
      )
    }
    YAML.visit(doc, {
      Scalar(_key, node) {
        if (node.type !== "PLAIN") return
        if (typeof node.value === "string") node.value = unwrapRubySymbol(node.value)
        // A long digit string (an unquoted serial) would lose digits as a JS number: keep its text.
        else if (typeof node.value === "number" && Number.isInteger(node.value) && !Number.isSafeInteger(node.value)) {
          node.value = node.source
        }
      },
    })
    const contents = doc.contents
    if (contents !== null && !isMap(contents) && !(isScalar(contents) && contents.value === null)) {
      return Either.left(new PageParseError({ file, line: 1, reason: "frontmatter is not a mapping" }))
    }
    const lines = new Map<string, number>()
    if (isMap(contents)) {
      for (const pair of contents.items) {
        if (isScalar(pair.key) && pair.key.range) lines.set(String(pair.key.value), lineCounter.linePos(pair.key.range[0]).line)
      }
    }
    let js: unknown
    try {
      js = doc.toJS({ maxAliasCount: 100 })
    } catch (cause) {
      return Either.left(new PageParseError({ file, reason: cause instanceof Error ? cause.message : String(cause) }))
    }
    const fields: Record<string, unknown> = js !== null && typeof js === "object" ? (js as Record<string, unknown>) : {}
    const at = (field: string) => {
      const line = lines.get(field)
      return line !== undefined ? { line } : {}
    }

    const rawId = fields["id"]
    if (rawId !== undefined && rawId !== null && typeof rawId !== "string" && typeof rawId !== "number") {
      return Either.left(new PageFieldError({ file, field: "id", ...at("id"), reason: "expected a text or a number" }))
    }
    const id = rawId === undefined || rawId === null || String(rawId) === "" ? baseName(file) : String(rawId)

    const rawType = fields["_type"]
    if (rawType !== undefined && rawType !== null && typeof rawType !== "string") {
      return Either.left(new PageFieldError({ file, field: "_type", ...at("_type"), reason: "expected a text" }))
    }
    const kind = typeof rawType === "string" ? (isKind(rawType) ? rawType : undefined) : dirKind(file)

    return Either.right({ file, kind, id, fields, lines })
  })

// ---- Field readers: each returns the value, undefined when absent or null, or a typed error. ----

/** An error about `field` of `page`, with the field's line when the page has the field. */
export const pageFieldError = (page: Page, field: string, reason: string): PageFieldError => {
  const line = page.lines.get(field)
  return new PageFieldError({ file: page.file, field, ...(line !== undefined ? { line } : {}), reason })
}

const scalarText = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined

/** A text field; a number or boolean is read as its text (YAML reads `443` or `true` unquoted). */
export const textField = (page: Page, field: string): Either.Either<string | undefined, PageFieldError> => {
  const v = page.fields[field]
  if (v === undefined || v === null) return Either.right(undefined)
  const s = scalarText(v)
  return s !== undefined ? Either.right(s) : Either.left(pageFieldError(page, field, `expected a text, found ${describe(v)}`))
}

/** A list of texts; a single value is a list of one (the original writes one address as a scalar). */
export const textListField = (
  page: Page,
  field: string,
): Either.Either<ReadonlyArray<string> | undefined, PageFieldError> => {
  const v = page.fields[field]
  if (v === undefined || v === null) return Either.right(undefined)
  const items = Array.isArray(v) ? v : [v]
  const out: Array<string> = []
  for (const [i, item] of items.entries()) {
    if (item === null || item === undefined) continue
    const s = scalarText(item)
    if (s === undefined) {
      return Either.left(pageFieldError(page, field, `expected a list of texts, item ${i} is ${describe(item)}`))
    }
    out.push(s)
  }
  return Either.right(out)
}

/** A whole number; a text of digits is accepted (`port: "443"`). */
export const integerField = (page: Page, field: string): Either.Either<number | undefined, PageFieldError> => {
  const v = page.fields[field]
  if (v === undefined || v === null) return Either.right(undefined)
  if (typeof v === "number" && Number.isInteger(v)) return Either.right(v)
  if (typeof v === "string" && /^\d+$/.test(v.trim())) return Either.right(Number(v.trim()))
  return Either.left(pageFieldError(page, field, `expected a whole number, found ${describe(v)}`))
}

const describe = (v: unknown): string =>
  Array.isArray(v)
    ? "a list"
    : v !== null && typeof v === "object"
      ? "a mapping"
      : typeof v === "string"
        ? JSON.stringify(v)
        : String(v)
