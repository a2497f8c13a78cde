import { isIP } from 'node:net';

/**
 * One text per client address. The key-abuse detector compares addresses as strings in SQL, so
 * `2001:DB8:0::1` and `2001:db8::1`, or `::ffff:10.0.0.7` (an IPv4 client of a dual-stack socket)
 * and `10.0.0.7`, must be stored alike or a known client reads as a new one.
 *
 * IPv6 goes through the WHATWG URL serializer (RFC 5952: lowercase, longest zero run compressed);
 * an IPv4-mapped address becomes its dotted IPv4; a zone id (`fe80::1%eth0`) is dropped, since it
 * names the gateway's interface, not the client. Returns null when `text` is no IP literal.
 */
export function canonicalClientAddress(text: string): string | null {
  const kind = isIP(text);
  if (kind === 4) return text;
  if (kind !== 6) return null;
  const zone = text.indexOf('%');
  const bare = zone < 0 ? text : text.slice(0, zone);
  const host = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped === null) return host;
  const high = Number.parseInt(mapped[1] ?? '0', 16);
  const low = Number.parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}
