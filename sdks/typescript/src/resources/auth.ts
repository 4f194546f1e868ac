export type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface Org {
  id: string;
  name: string;
  slug: string;
}

/** What the caller may do now (its role and its key's access together), for a client to offer only that. */
export interface Permissions {
  /** Such as `read`, `ingest`, `write`, `invite`, `manage_org_settings`. */
  actions: string[];
  /** The roles the caller may invite someone as. */
  grantableRoles: Exclude<Role, 'OWNER'>[];
  /** A member's current role → the roles the caller may give them. */
  roleChanges: Record<Role, Role[]>;
  removableRoles: Role[];
  /** The roles of the members the caller may issue a reset link for (in person only: empty for a key). */
  passwordResetRoles: Role[];
}

/** Answer of `client.me()`: the user behind the key, with their role read at request time. */
export interface Me {
  id: string;
  name: string;
  email: string;
  role: Role;
  orgId: string;
  org: Org;
  authMethod: 'jwt' | 'api_key';
  /** The key in use, when `authMethod` is `api_key`. */
  apiKey?: { id: string; name: string };
  /** Whether the person (for a key: its creator) has two-factor sign-in on; servers before it leave it out. */
  twoFactor?: boolean;
  /** Whether the org requires two-factor sign-in; servers before it leave it out. */
  twoFactorRequired?: boolean;
  /** What the caller may do now; servers before it leave it out. */
  permissions?: Permissions;
}
