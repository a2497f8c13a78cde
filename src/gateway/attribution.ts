import type { IncomingHttpHeaders } from 'node:http';
import { invalidInput, PertokenError } from '../errors.js';
import type { Identity } from '../governance/index.js';
import { DIMENSION_ID, TAG_PART, matchesId } from '../ids.js';
import type { Attribution } from '../ledger/index.js';

const MAX_TAGS = 16;
export const DEFAULT_TENANT = 'default';

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  if (Array.isArray(value)) throw new PertokenError('invalid_header', `${name} must be sent once`, { param: name });
  if (value.length === 0) return null;
  if (!matchesId(DIMENSION_ID, value))
    throw invalidInput(name, `${name} must be ${DIMENSION_ID.description}`, 'invalid_header');
  return value;
}

function parseTags(raw: string | string[] | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  const param = 'x-pertoken-tags';
  if (Array.isArray(raw)) throw new PertokenError('invalid_header', `${param} must be sent once`, { param });
  if (raw.length > 1024)
    throw new PertokenError('invalid_header', `${param} is longer than 1024 characters`, { param });
  const tags: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || !matchesId(TAG_PART, key) || !matchesId(TAG_PART, value)) {
      throw new PertokenError(
        'invalid_header',
        `${param} must be k=v pairs separated by commas (${TAG_PART.description}); bad pair "${pair.slice(0, 40)}"`,
        { param },
      );
    }
    tags[key] = value;
  }
  if (Object.keys(tags).length > MAX_TAGS)
    throw new PertokenError('invalid_header', `${param} has more than ${MAX_TAGS} tags`, { param });
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
