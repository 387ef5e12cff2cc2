// HostnameAddressChanged: the address set differs from the previous scan's, which was not empty.
// Going to NXDOMAIN with no address therefore reports every address as removed, as the original did.
import { derive, sortedUnique } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, sameSet } from "./support.js"

const NAME = "HostnameAddressChanged"

/** Per hostname stream: the addresses of its previous scan (empty when it had none). */
export type HostnameAddressState = Map<string, ReadonlyArray<string>>

const EMPTY: ReadonlyArray<string> = []

export const hostnameAddressChanged: Rule<HostnameAddressState> = {
  name: NAME,
  version: 1,
  init: () => new Map(),
  step: (previous, event) => {
    if (event.event_type !== "HostnameScanResult") return [previous, none]
    const id = event.aggregate_id
    const now = event.payload.addresses ?? EMPTY
    const before = previous.get(id)
    previous.set(id, now)
    if (before === undefined || before.length === 0 || sameSet(before, now)) return [previous, none]
    const old = new Set(before)
    const current = new Set(now)
    return [
      previous,
      [
        derive(NAME, event, "HostnameAddressChanged", id, {
          hostname: event.payload.hostname,
          added_addresses: [...current].filter((a) => !old.has(a)).sort(),
          removed_addresses: [...old].filter((a) => !current.has(a)).sort(),
          current_addresses: sortedUnique(now),
        }),
      ],
    ]
  },
}
