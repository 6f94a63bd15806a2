// Which addresses the server may send requests to for its users (webhooks, Web Push): none inside the
// server's networks (no SSRF), unless the operator allows private networks. Every address a name
// resolves to must pass, and the request connects to the address checked (outbound-post.ts), so a name
// that answers differently the second time cannot slip through.
import { lookup } from 'node:dns/promises';
import net from 'node:net';

const forbidden = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  forbidden.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local (fd00:ec2::254, a metadata address, is one)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  forbidden.addSubnet(prefix, bits, 'ipv6');
}

/** IPv4 carried inside IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::/96) is judged as the IPv4 address. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = Number.parseInt(m[2]!, 16);
  const lo = Number.parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an IP address is inside a network outbound requests may not reach. */
export function isForbiddenAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return forbidden.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  return v4 ? forbidden.check(v4, 'ipv4') : forbidden.check(address, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A URL the server will not send to; the message says why, in words a client can be shown. */
export class AddressRefusedError extends Error {}

const refused = (detail: string) => new AddressRefusedError(detail);

export interface AddressPolicy {
  /** Lets the URL point at loopback, private and link-local networks (trusted setups, tests). */
  allowPrivate: boolean;
  /** Schemes accepted; http and https unless told. */
  protocols?: readonly ('http:' | 'https:')[];
}

/**
 * The address to connect to for `url`, once checked; throws AddressRefusedError for another scheme, a
 * name that does not resolve, or an address inside a private network (unless they are allowed).
 */
export async function resolvePublicAddress(url: string, policy: AddressPolicy): Promise<ResolvedAddress> {
  const { allowPrivate, protocols = ['http:', 'https:'] } = policy;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused('The URL could not be read');
  }
  if (!(protocols as readonly string[]).includes(parsed.protocol)) {
    throw refused(protocols.length === 1 ? `Use an ${protocols[0]?.slice(0, -1)} URL` : 'Use an http(s) URL');
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: literal as 4 | 6 }];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];
    } catch {
      throw refused(`The host ${host} does not resolve`);
    }
  }
  if (!addresses.length) throw refused(`The host ${host} does not resolve`);
  if (!allowPrivate && addresses.some((a) => isForbiddenAddress(a.address))) {
    throw refused('The URL points at a private, loopback or link-local address');
  }
  return addresses[0]!;
}
