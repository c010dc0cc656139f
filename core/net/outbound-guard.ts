import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * Requests to addresses a tenant chose (a flow's HTTP request node, a tenant's own AI provider) must not reach
 * the installation's private network: the cloud's metadata service, the database, Temporal, the admin ports
 * of neighbouring services. The check is made on every connection, after name resolution and on every
 * redirect, so a public name that resolves (or is rebound, or redirects) to a private address is refused too.
 * Operators who mean their tenants to call internal hosts (a CRM on the LAN, a local model server) list them
 * in OUTBOUND_ALLOWED_HOSTS, or allow private networks altogether (the default outside production, where the
 * simulators and test servers are on localhost).
 */

export interface OutboundPolicy {
  /** Whether tenant-chosen URLs may reach loopback, private, link-local and other non-public addresses. */
  allowPrivateNetworks: boolean;
  /** Host names (or IP literals) that may be reached whatever they resolve to. Lower case. */
  allowedHosts: string[];
}

/** A request a tenant asked for that the policy does not let out. */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

// Addresses that are not the public internet (IANA special-purpose registries). Two lists: a BlockList checks
// an IPv4 address against IPv6 rules as IPv4-mapped, and the mapped range below would then match every one.
const nonPublicV4 = new BlockList();
const nonPublicV6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublicV4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-mapped and NAT64 addresses could carry any IPv4 address, private ones included.
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublicV6.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is outside the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? nonPublicV4.check(address, 'ipv4') : nonPublicV6.check(address, 'ipv6');
}

const refusal = (host: string, address: string) =>
  new OutboundRefused(
    `${host} is a private or reserved address (${address}): requests to it are not allowed; an operator can allow the host with OUTBOUND_ALLOWED_HOSTS`,
  );

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses names resolving to a non-public address (any of them: the socket may pick any). */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isNonPublicAddress(a.address));
    if (blocked) return callback(refusal(hostname, blocked.address) as NodeJS.ErrnoException, []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

/** An undici agent whose every connection (redirects included) is checked against the policy. */
export function guardedAgent(policy: OutboundPolicy): Agent {
  const allowed = new Set(policy.allowedHosts.map(bare));
  const open = buildConnector({});
  const checked = buildConnector({ lookup: publicOnlyLookup as never });
  return new Agent({
    connect(opts, callback) {
      const host = bare(opts.hostname);
      if (allowed.has(host)) return open(opts, callback);
      // A literal address never goes through the lookup.
      if (isIP(host) && isNonPublicAddress(host)) return callback(refusal(host, host), null);
      return checked(opts, callback);
    },
  });
}

/** fetch for tenant-chosen URLs under the policy: the global fetch when private networks are allowed. */
export function outboundFetch(policy: OutboundPolicy): typeof fetch {
  if (policy.allowPrivateNetworks) return fetch;
  const dispatcher = guardedAgent(policy);
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}

/** The policy's refusal behind an error a fetch (or a client built on fetch) threw, if that is what it was. */
export function refusalBehind(err: unknown): OutboundRefused | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRefused) return e;
  }
  return undefined;
}
