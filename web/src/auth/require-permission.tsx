import type { ReactNode } from 'react';
import { NotPermitted } from '../components/not-permitted';
import { meets, type Requirement } from './permissions';
import { useCurrentUser } from './session';

/** Shows "not permitted" instead of a page the user may not open (the API would refuse its data anyway). */
export function RequirePermission({
  requirement,
  children,
}: {
  requirement: Requirement;
  children: ReactNode;
}): ReactNode {
  const user = useCurrentUser();
  return meets(user, requirement) ? children : <NotPermitted />;
}
