// What the signed-in person may do: the Roles table of the API contract, mirrored so that nobody is
// shown a control the API would refuse them. `me` is GET /api/auth/me's body ({id, role, ...}).
//
//   ROLES                          ["OWNER", "ADMIN", "MEMBER", "VIEWER"], highest first
//   roleLabel(role)                "MEMBER" → "Member"
//   isAdministrator(me)            OWNER or ADMIN
//   canWrite(me)                   create and edit (agents, sessions): everyone but VIEWER
//   canDeleteItem(me, item)        OWNER/ADMIN anything; MEMBER what they created (item.createdById,
//                                  or item.user.id)
//   canReadAudit(me)               OWNER and ADMIN
//   canCreateKey(me)               every role (a key never does more than its creator)
//   canSeeAllKeys(me)              OWNER and ADMIN see and revoke every key of the org
//   canRevokeKey(me, key)          OWNER/ADMIN any key; others their own
//   canRollKey(me, key)            its creator only, whatever the role: the new key acts as its creator
//   canManageTrustPolicies(me)     OWNER and ADMIN: which CI jobs may exchange ID tokens for keys
//   canInvite(me)                  OWNER and ADMIN
//   invitableRoles(me)             OWNER: ADMIN, MEMBER, VIEWER; ADMIN: MEMBER, VIEWER
//   canChangeRole(me, member, newRole)  OWNER any (never their own row here: the org keeps an OWNER);
//                                  ADMIN moves non-admins between MEMBER and VIEWER
//   roleChoices(me, member)        the roles the select may offer for member (theirs included), [] if none
//   canRemove(me, member)          OWNER anyone but themselves; ADMIN MEMBERs and VIEWERs
//   canIssuePasswordReset(me, member)  a reset link for someone else follows "change roles": OWNER anyone
//                                  but themselves; ADMIN MEMBERs and VIEWERs
//   canManageOrgSettings(me)       an OWNER signed in with a password (no API key changes them)

import { enumLabel } from "./format.js";

export const ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER"];

const LOWER = ["MEMBER", "VIEWER"];

export function roleLabel(role) {
  return enumLabel(role);
}

export function isAdministrator(me) {
  return me.role === "OWNER" || me.role === "ADMIN";
}

export function canWrite(me) {
  return me.role !== "VIEWER";
}

function creatorOf(item) {
  return item.createdById ?? (item.user ? item.user.id : undefined);
}

export function canDeleteItem(me, item) {
  if (isAdministrator(me)) return true;
  return me.role === "MEMBER" && creatorOf(item) === me.id;
}

export function canReadAudit(me) {
  return isAdministrator(me);
}

export function canCreateKey() {
  return true;
}

export function canSeeAllKeys(me) {
  return isAdministrator(me);
}

export function canRevokeKey(me, key) {
  return isAdministrator(me) || key.user.id === me.id;
}

export function canRollKey(me, key) {
  return key.user.id === me.id;
}

export function canManageTrustPolicies(me) {
  return isAdministrator(me);
}

export function canInvite(me) {
  return isAdministrator(me);
}

export function invitableRoles(me) {
  if (me.role === "OWNER") return ["ADMIN", "MEMBER", "VIEWER"];
  if (me.role === "ADMIN") return [...LOWER];
  return [];
}

export function canChangeRole(me, member, newRole) {
  if (member.id === me.id) return false;
  if (me.role === "OWNER") return ROLES.includes(newRole);
  if (me.role === "ADMIN") return LOWER.includes(member.role) && LOWER.includes(newRole);
  return false;
}

export function roleChoices(me, member) {
  const others = ROLES.filter((role) => role !== member.role && canChangeRole(me, member, role));
  return others.length ? ROLES.filter((role) => role === member.role || others.includes(role)) : [];
}

export function canRemove(me, member) {
  if (member.id === me.id) return false;
  if (me.role === "OWNER") return true;
  return me.role === "ADMIN" && LOWER.includes(member.role);
}

export function canIssuePasswordReset(me, member) {
  if (member.id === me.id) return false;
  if (me.role === "OWNER") return true;
  return me.role === "ADMIN" && LOWER.includes(member.role);
}

export function canManageOrgSettings(me) {
  return me.role === "OWNER" && me.authMethod === "jwt";
}
