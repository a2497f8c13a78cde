import type { IncomingHttpHeaders } from 'node:http';
import { PertokenError } from '../errors.js';
import type { Identity } from '../governance/index.js';
import type { Attribution } from '../ledger/index.js';

const ID_CHARS = /^[A-Za-z0-9._:@\/+-]{1,128}$/;
const TAG_PART = /^[A-Za-z0-9._:\/+-]{1,64}$/;
const MAX_TAGS = 16;
export const DEFAULT_TENANT = 'default';

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  if (Array.isArray(value)) throw new PertokenError('invalid_header', `${name} must be sent once`, { param: name });
  if (value.length === 0) return null;
  if (!ID_CHARS.test(value)) {
    throw new PertokenError('invalid_header', `${name} must be 1-128 characters of A-Z a-z 0-9 . _ : @ / + -`, { param: name });
  }
  return value;
}

function parseTags(raw: string | string[] | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  const param = 'x-pertoken-tags';
  if (Array.isArray(raw)) throw new PertokenError('invalid_header', `${param} must be sent once`, { param });
  if (raw.length > 1024) throw new PertokenError('invalid_header', `${param} is longer than 1024 characters`, { param });
  const tags: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || !TAG_PART.test(key) || !TAG_PART.test(value)) {
      throw new PertokenError('invalid_header', `${param} must be k=v pairs separated by commas (1-64 characters of A-Z a-z 0-9 . _ : / + -); bad pair "${pair.slice(0, 40)}"`, { param });
    }
    tags[key] = value;
  }
  if (Object.keys(tags).length > MAX_TAGS) throw new PertokenError('invalid_header', `${param} has more than ${MAX_TAGS} tags`, { param });
  return tags;
}

/** Who to charge: the key's tenant/project first, then the attribution headers, then `default`. */
export function resolveAttribution(headers: IncomingHttpHeaders, identity: Identity): Attribution {
  const tenant = header(headers, 'x-pertoken-tenant');
  const project = header(headers, 'x-pertoken-project');
  return {
    tenant: identity.tenant ?? tenant ?? DEFAULT_TENANT,
    project: identity.project ?? project,
    user: header(headers, 'x-pertoken-user'),
    feature: header(headers, 'x-pertoken-feature'),
    trace_id: header(headers, 'x-pertoken-trace-id'),
    key_id: identity.key_id,
    tags: parseTags(headers['x-pertoken-tags']),
  };
}
