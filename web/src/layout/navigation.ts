import {
  type Icon,
  IconApi,
  IconDeviceDesktopAnalytics,
  IconDevicesPlus,
  IconListSearch,
  IconPlugConnected,
  IconServer2,
  IconSettings,
  IconShieldLock,
  IconUsers,
} from '@tabler/icons-react';
import type { ComponentType } from 'react';
import type { User } from '../api/types';
import { AREA_REQUIREMENTS, meets, type Requirement } from '../auth/permissions';
import type { MessageKey } from '../i18n/messages.en';
import { RegistryNavBadge } from '../pages/registry/registry-nav-badge';

export interface NavItem {
  readonly path: string;
  readonly label: MessageKey;
  readonly icon: Icon;
  /** Omitted = every signed-in user (the page itself decides what each user sees). */
  readonly requires?: Requirement;
  /** Shown at the item's end, e.g. how many things wait there; rendered only for users who see the item. */
  readonly badge?: ComponentType;
}

export interface NavSection {
  readonly label: MessageKey;
  readonly items: readonly NavItem[];
}

/** The left navigation, grouped by concern. A page joins by adding one item. */
export const NAV_SECTIONS: readonly NavSection[] = [
  {
    label: 'nav.section.identity',
    items: [
      { path: '/users', label: 'nav.users', icon: IconUsers, requires: AREA_REQUIREMENTS.users },
      {
        path: '/sessions',
        label: 'nav.sessions',
        icon: IconDeviceDesktopAnalytics,
        requires: AREA_REQUIREMENTS.sessions,
      },
      { path: '/api-keys', label: 'nav.apiKeys', icon: IconApi, requires: AREA_REQUIREMENTS.apiKeys },
    ],
  },
  {
    label: 'nav.section.mqtt',
    items: [
      { path: '/access-roles', label: 'nav.accessRoles', icon: IconShieldLock },
      { path: '/mqtt-clients', label: 'nav.mqttClients', icon: IconPlugConnected },
      {
        path: '/registry',
        label: 'nav.registry',
        icon: IconDevicesPlus,
        requires: AREA_REQUIREMENTS.registry,
        badge: RegistryNavBadge,
      },
      { path: '/brokers', label: 'nav.brokers', icon: IconServer2, requires: AREA_REQUIREMENTS.brokers },
    ],
  },
  {
    label: 'nav.section.system',
    items: [
      { path: '/audit', label: 'nav.audit', icon: IconListSearch, requires: AREA_REQUIREMENTS.audit },
      { path: '/settings', label: 'nav.settings', icon: IconSettings },
    ],
  },
];

/** The sections and items `user` may open; empty sections disappear. */
export function visibleSections(user: User): NavSection[] {
  return NAV_SECTIONS.map((section) => ({
    ...section,
    items: section.items.filter((item) => !item.requires || meets(user, item.requires)),
  })).filter((section) => section.items.length > 0);
}

/** Where a user lands after signing in: the first administrative page they may open, else their profile. */
export function homePath(user: User): string {
  const first = NAV_SECTIONS.flatMap((section) => section.items).find(
    (item) => item.requires && meets(user, item.requires),
  );
  return first?.path ?? '/profile';
}
