// What the signed-in person may do. The role table lives on the server alone (auth/roles.py): GET /api/auth/me
// says which actions the caller may take and which roles they may grant, change, remove or reset
// (me.permissions), so nobody is shown a control the API would refuse. What is left here are the rules about
// one item, which the server applies per request: whose key, whose row, who made it.
//
//   ROLES                          ["OWNER", "ADMIN", "MEMBER", "VIEWER"], highest first: the order roles are listed in
//   roleLabel(role)                "MEMBER" → "Member"
//   may(me, action)                an action of auth/roles.py's Action ("write", "read_audit", ...) in me.permissions
//   canReadAudit(me)               may(me, "read_audit"): the shell's navigation asks it
//   canDeleteItem(me, item)        "delete_any", or "delete_own" and item is theirs (item.createdById, or item.user.id)
//   canRevokeKey(me, key)          "manage_org_keys", or "manage_own_keys" and the key is theirs
//   canRollKey(me, key)            its creator only, whatever the role: the new key acts as its creator
//   invitableRoles(me)             the roles an invitation may grant
//   roleChoices(me, member)        the roles the Role select may offer (theirs included), [] if none; never one's own row
//   canRemove(me, member)          another member whose role me may remove
//   canIssuePasswordReset(me, member)  another member whose role me may issue a reset link for
//   canManageOrgSettings(me)       "manage_org_settings" (the server lists it only for a person signed in, never a key)

import { enumLabel } from "./format.js";

export const ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER"];

const NONE = { actions: [], grantableRoles: [], roleChanges: {}, removableRoles: [], passwordResetRoles: [] };

function permissions(me) {
  return { ...NONE, ...(me && me.permissions) };
}

export function roleLabel(role) {
  return enumLabel(role);
}

export function may(me, action) {
  return permissions(me).actions.includes(action);
}

export function canReadAudit(me) {
  return may(me, "read_audit");
}

function creatorOf(item) {
  return item.createdById ?? (item.user ? item.user.id : undefined);
}

export function canDeleteItem(me, item) {
  return may(me, "delete_any") || (may(me, "delete_own") && creatorOf(item) === me.id);
}

export function canRevokeKey(me, key) {
  return may(me, "manage_org_keys") || (may(me, "manage_own_keys") && key.user.id === me.id);
}

export function canRollKey(me, key) {
  return may(me, "manage_own_keys") && key.user.id === me.id;
}

export function invitableRoles(me) {
  return ROLES.filter((role) => permissions(me).grantableRoles.includes(role));
}

export function roleChoices(me, member) {
  if (member.id === me.id) return []; // the org keeps an OWNER: nobody changes their own role here
  const targets = permissions(me).roleChanges[member.role] || [];
  const others = ROLES.filter((role) => role !== member.role && targets.includes(role));
  return others.length ? ROLES.filter((role) => role === member.role || others.includes(role)) : [];
}

export function canRemove(me, member) {
  return member.id !== me.id && permissions(me).removableRoles.includes(member.role);
}

export function canIssuePasswordReset(me, member) {
  return member.id !== me.id && permissions(me).passwordResetRoles.includes(member.role);
}

export function canManageOrgSettings(me) {
  return may(me, "manage_org_settings");
}
