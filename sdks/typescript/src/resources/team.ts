import type { Transport } from '../transport.js';
import type { Role } from './auth.js';

export interface Member {
  id: string;
  name: string;
  email: string;
  role: Role;
  createdAt: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
  createdAt: string;
  invitedBy: { name: string; email: string };
}

/** Answer of `invitations.create()`; `inviteLink` works once, for 7 days: send it to the person. */
export interface InvitationCreated {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
  inviteLink: string;
}

export interface InvitationCreateParams {
  email: string;
  /** ADMIN, MEMBER or VIEWER; default MEMBER. */
  role?: Exclude<Role, 'OWNER'>;
}

export class Members {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  list(): Promise<Member[]> {
    return this.#transport.request('GET', '/api/org/members');
  }

  /** OWNER changes any role; ADMIN moves MEMBER ↔ VIEWER only. */
  changeRole(userId: string, role: Role): Promise<Member> {
    return this.#transport.request('PATCH', `/api/org/members/${encodeURIComponent(userId)}/role`, { body: { role } });
  }

  /** Their access ends at once: their keys answer `api_key_owner_removed`. */
  remove(userId: string): Promise<{ success: true }> {
    return this.#transport.request('DELETE', `/api/org/members/${encodeURIComponent(userId)}`);
  }
}

export class Invitations {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Pending invitations. */
  list(): Promise<Invitation[]> {
    return this.#transport.request('GET', '/api/org/invitations');
  }

  create(params: InvitationCreateParams): Promise<InvitationCreated> {
    return this.#transport.request('POST', '/api/org/invitations', { body: params });
  }

  /** The link stops working. */
  cancel(id: string): Promise<{ success: true }> {
    return this.#transport.request('DELETE', `/api/org/invitations/${encodeURIComponent(id)}`);
  }
}
