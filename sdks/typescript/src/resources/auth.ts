export type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface Org {
  id: string;
  name: string;
  slug: string;
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
}
