// A fast yes/no check compiled from a Schema's AST, for the hot path of the fold: decoding a
// million payloads through the full parser costs more than reading them. The Schema stays the
// one definition and the authority: the guard only says "certainly valid" (the value is then
// used as it is) or "ask the Schema", which also produces the error with its path.
import { Option, SchemaAST as AST } from "effect"
import type { Schema } from "effect"

type Guard = (u: unknown) => boolean

const NO_OPTIONS: AST.ParseOptions = {}

/**
 * The guard for one AST node, or `undefined` where the node is not a kind compiled here.
 * `keepsExcess`: the caller accepts objects with keys the Schema would drop.
 */
const compile = (ast: AST.AST, keepsExcess: boolean): Guard | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map((t) => compile(t, keepsExcess))
      if (members.some((m) => m === undefined)) return undefined
      const guards = members as Array<Guard>
      return (u) => guards.some((g) => g(u))
    }
    case "TupleType": {
      // Only plain arrays (`Schema.Array(item)`): no fixed elements, one rest type.
      if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
      const item = compile(ast.rest[0]!.type, keepsExcess)
      if (item === undefined) return undefined
      return (u) => Array.isArray(u) && u.every(item)
    }
    case "Refinement": {
      const from = compile(ast.from, keepsExcess)
      if (from === undefined) return undefined
      return (u) => from(u) && Option.isNone(ast.filter(u, NO_OPTIONS, ast))
    }
    case "TypeLiteral": {
      const known = new Set<PropertyKey>()
      const properties: Array<{ name: string; optional: boolean; guard: Guard }> = []
      for (const ps of ast.propertySignatures) {
        const guard = compile(ps.type, keepsExcess)
        if (guard === undefined || typeof ps.name !== "string") return undefined
        known.add(ps.name)
        properties.push({ name: ps.name, optional: ps.isOptional, guard })
      }
      let rest: Guard | undefined = undefined
      for (const is of ast.indexSignatures) {
        if (is.parameter._tag !== "StringKeyword") return undefined
        const guard = compile(is.type, keepsExcess)
        if (guard === undefined) return undefined
        rest = guard
      }
      // Without an index signature the Schema drops unknown keys; the guard cannot, so it declines
      // unless the caller does not mind them.
      if (rest === undefined && !keepsExcess) return undefined
      const restGuard = rest ?? (() => true)
      const checksRest = ast.indexSignatures.some((is) => is.type._tag !== "UnknownKeyword")
      return (u) => {
        if (typeof u !== "object" || u === null || Array.isArray(u)) return false
        const record = u as Record<string, unknown>
        for (const p of properties) {
          if (!Object.hasOwn(record, p.name)) {
            if (!p.optional) return false
            continue
          }
          if (!p.guard(record[p.name])) return false
        }
        if (checksRest) for (const key of Object.keys(record)) if (!known.has(key) && !restGuard(record[key])) return false
        return true
      }
    }
    default:
      return undefined
  }
}

/**
 * A guard that answers `true` only for values the schema decodes to themselves, or `undefined`
 * when the schema uses something this compiler does not handle (then always use the Schema).
 */
export const fastGuard = <A, I>(schema: Schema.Schema<A, I>): Guard | undefined => compile(schema.ast, false)

/** Like `fastGuard`, for callers that do not mind keys the schema does not name (they ignore them). */
export const fastGuardKeepingExcess = <A, I>(schema: Schema.Schema<A, I>): Guard | undefined =>
  compile(schema.ast, true)
