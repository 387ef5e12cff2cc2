// DomainNameserversChanged: the NS set of a domain differs from the previous scan's, both present.
import { derive, sortedUnique } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, sameSet } from "./support.js"

const NAME = "DomainNameserversChanged"

/** Per domain stream: the nameservers of its previous scan (null when that scan had none). */
export type DomainNameserversState = Map<string, ReadonlyArray<string> | null>

export const domainNameserversChanged: Rule<DomainNameserversState> = {
  name: NAME,
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "DomainScanResult") return [previous, none]
    const id = event.aggregate_id
    const now = event.payload.nameservers ?? null
    const before = previous.get(id)
    // "Previous" is the previous scan whatever it held, so a scan without NS is remembered too.
    previous.set(id, now)
    if (before == null || before.length === 0 || now === null || now.length === 0 || sameSet(before, now))
      return [previous, none]
    return [
      previous,
      [
        derive(NAME, event, "DomainNameserversChanged", id, {
          domain_name: event.payload.domain_name,
          old_nameservers: sortedUnique(before),
          new_nameservers: sortedUnique(now),
        }),
      ],
    ]
  },
}
