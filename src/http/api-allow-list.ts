import type { FastifyRequest } from 'fastify';
import { AddressList } from '../core/net/address-list.js';
import type { Requirement } from '../modules/permissions/permissions.policy.js';
import { isDeviceRegistration } from '../modules/registry/registry-admission.js';
import type { SecuritySettings } from '../modules/settings/settings.schemas.js';

/** Forward-auth answers the reverse proxy in front of other applications, not the management API. */
const FORWARD_AUTH = '/api/v1/forward-auth';

/**
 * Whether the security setting `apiAllowFrom` governs this request: every `/api/v1/…` path (matched or not, so
 * a refused address cannot probe which routes exist) except the broker hooks, forward-auth and devices
 * registering themselves (docs/registry.md), which machines call and which have their own admission. Health,
 * `/metrics`, the API docs and the console's files are outside `/api/v1/`. The exemptions are read from the
 * matched route, never from the raw path.
 */
export function isManagementApi(request: FastifyRequest, requirement: Requirement | undefined): boolean {
  const route = request.routeOptions.url;
  const path = route ?? request.url.split('?')[0] ?? request.url;
  if (!path.startsWith('/api/v1/')) return false;
  if (requirement?.kind === 'hook') return false;
  // Devices register from wherever they are; administrators reading a request stay inside the allow-list.
  if (requirement?.kind === 'registration' && isDeviceRegistration(request, requirement)) return false;
  return !(route === FORWARD_AUTH || route?.startsWith(`${FORWARD_AUTH}/`));
}

/**
 * `apiAllowFrom` as an {@link AddressList}, built once per settings document: the guard asks on every request,
 * from the settings this process caches (no database read), so a change applies at the next request once the
 * change feed delivered it.
 */
export function apiAllowList(current: () => SecuritySettings): (ip: string) => boolean {
  let compiledFrom: readonly string[] | null = null;
  let compiled: AddressList | null = null;
  return (ip) => {
    const source = current().apiAllowFrom;
    if (source.length === 0) return true;
    if (source !== compiledFrom || compiled === null) {
      compiled = new AddressList(source);
      compiledFrom = source;
    }
    return compiled.contains(ip);
  };
}
