// The rule set: every rule of DESIGN.md section 2, in the order the fold runs them.
import type { Rule } from "../rule.js"
import { certificateChanged } from "./certificate-changed.js"
import { domainNameserversChanged } from "./domain-nameservers-changed.js"
import { endpointBecameReachable, endpointBecameUnreachable } from "./endpoint-reachability.js"
import { makeCertificateExpiry, makeDomainExpiry } from "./expiry.js"
import { hostnameAddressChanged } from "./hostname-address-changed.js"
import { hostnameBecameUnreachable, hostnameRecovered } from "./hostname-reachability.js"
import { sharedCertificateDetected } from "./shared-certificate-detected.js"

export interface RuleConfig {
  /** Days before an expiry at which a warning fires, once each per expiry value. */
  readonly expiryThresholds: ReadonlyArray<number>
}

export const defaultRuleConfig: RuleConfig = { expiryThresholds: [30, 14, 7, 1] }

/** The rules with the given settings; the order is the order of derived events from one raw event. */
export const makeRules = (config: Partial<RuleConfig> = {}): ReadonlyArray<Rule> => {
  const thresholds = config.expiryThresholds ?? defaultRuleConfig.expiryThresholds
  return [
    domainNameserversChanged,
    makeDomainExpiry(thresholds),
    hostnameAddressChanged,
    hostnameBecameUnreachable,
    hostnameRecovered,
    certificateChanged,
    makeCertificateExpiry(thresholds),
    endpointBecameReachable,
    endpointBecameUnreachable,
    sharedCertificateDetected,
  ]
}

export const domainExpiry = makeDomainExpiry(defaultRuleConfig.expiryThresholds)
export const certificateExpiry = makeCertificateExpiry(defaultRuleConfig.expiryThresholds)

/** The default rule set. */
export const rules: ReadonlyArray<Rule> = makeRules()

export {
  certificateChanged,
  domainNameserversChanged,
  endpointBecameReachable,
  endpointBecameUnreachable,
  hostnameAddressChanged,
  hostnameBecameUnreachable,
  hostnameRecovered,
  makeCertificateExpiry,
  makeDomainExpiry,
  sharedCertificateDetected,
}
export { normalizeThresholds, REMEMBERED_EXPIRY_VALUES } from "./expiry.js"
export type { ExpiryMark, ExpiryState, ExpiryWatch } from "./expiry.js"
export type { SharedCertificateState } from "./shared-certificate-detected.js"
