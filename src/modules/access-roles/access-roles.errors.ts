import { defineErrors } from '../../core/errors/app-error.js';

/** Error codes of access roles and their assignments to users. */
export const accessRoleError = defineErrors({
  'access_role.not_found': {
    status: 404,
    title: 'Access role not found',
    description: 'No access role has this name (names are matched case-insensitively).',
  },
  'access_role.exists': {
    status: 409,
    title: 'Access role already exists',
    description: 'The name is taken (access-role names are unique case-insensitively).',
  },
  'access_role.invalid_rule': {
    status: 400,
    title: 'Invalid access rule',
    description:
      'One or more rules are malformed (topic filter, placeholder, QoS or retain); `errors[].index` is the position of each failing rule.',
  },
  'access_role.too_many_rules': {
    status: 400,
    title: 'Too many rules',
    description: 'An access role holds at most 500 rules.',
  },
  'access_role.name_immutable': {
    status: 400,
    title: 'Access-role name cannot change',
    description: 'A PUT carried a name different from the one in the URL; access-role names are immutable.',
  },
  'access_role.version_conflict': {
    status: 409,
    title: 'Access role changed meanwhile',
    description:
      'The `version` sent with the update is not the current one: someone else changed the role; reload and retry.',
  },
  'access_role.in_use': {
    status: 409,
    title: 'Access role in use',
    description: 'Users still hold the role; remove it from them first or delete with `?force=true`.',
  },
  'access_role.unknown': {
    status: 400,
    title: 'Unknown access role',
    description:
      'An `accessRoles` list names a role that does not exist; `errors[].index` points at each one.',
  },
});
