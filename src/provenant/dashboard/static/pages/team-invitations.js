// Team's invitations (for whoever may invite): Invite Member with the link shown once in the green banner,
// and the pending invitations with Cancel.
//
//   openInvite(page), loadInvitations(page)

import { api, apiAll } from "../api.js";
import { dateText, timeText } from "../components.js";
import { button, confirmThen, emptyState, errorSlot, field, h, select, table, uniqueId } from "../dom.js";
import { invitableRoles, roleLabel } from "../roles.js";
import { linkBanner, roleBadge } from "./team-members.js";

async function cancelInvitation(page, invitation) {
  await confirmThen(
    {
      title: `Cancel the invitation of ${invitation.email}?`,
      message: "The link stops working at once. You can invite them again later.",
      confirmLabel: "Cancel invitation",
      cancelLabel: "Keep it",
      danger: true,
    },
    async () => {
      await api(`/org/invitations/${encodeURIComponent(invitation.id)}`, { method: "DELETE" });
      await loadInvitations(page);
    },
    page.invitationsError,
  );
}

function renderInvitations(page) {
  if (!page.invitations.length) {
    page.invitationsSlot.replaceChildren(emptyState("No pending invitations."));
    return;
  }
  const cancel = (invitation) =>
    button("Cancel", {
      class: "button-small button-danger-text",
      "aria-label": `Cancel the invitation of ${invitation.email}`,
      on: { click: () => cancelInvitation(page, invitation) },
    });
  const columns = [
    { label: "Email", cell: (invitation) => h("span", { class: "name" }, invitation.email) },
    { label: "Role", cell: (invitation) => roleBadge(invitation.role) },
    { label: "Invited by", cell: (invitation) => (invitation.invitedBy ? invitation.invitedBy.name : "") },
    { label: "Expires", class: "nowrap", cell: (invitation) => timeText(invitation.expiresAt) },
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: cancel },
  ];
  page.invitationsSlot.replaceChildren(table(columns, page.invitations, { caption: "Pending invitations" }));
}

export async function loadInvitations(page) {
  if (!page.inviter) return;
  try {
    page.invitations = await apiAll("/org/invitations");
    page.invitationsError.clear();
    renderInvitations(page);
  } catch (err) {
    if (!page.ctx.isCurrent()) return;
    page.invitationsSlot.replaceChildren();
    page.invitationsError.show(err);
  }
}

function showLink(page, invitation) {
  linkBanner(page, {
    title: `Invitation for ${invitation.email} (${roleLabel(invitation.role)})`,
    text: ["Send them this link. It works once, until ", dateText(invitation.expiresAt), ", and is shown only now."],
    link: invitation.inviteLink,
    onDone: () => page.inviteButton?.focus(),
  });
}

async function invite(page, form, event) {
  event.preventDefault();
  form.error.clear();
  form.submit.disabled = true;
  try {
    const body = { email: form.email.value.trim(), role: form.role.value };
    const created = await api("/org/invitations", { method: "POST", body });
    page.formSlot.replaceChildren();
    showLink(page, created);
    await loadInvitations(page);
  } catch (err) {
    form.error.show(err);
    form.submit.disabled = false;
  }
}

export function openInvite(page) {
  if (page.formSlot.firstChild) {
    page.formSlot.querySelector("input")?.focus();
    return;
  }
  const titleId = uniqueId("invite-title");
  const roles = invitableRoles(page.me).map((value) => ({ value, label: roleLabel(value) }));
  const form = {
    email: h("input", { type: "email", name: "email", required: true, autocomplete: "off", placeholder: "name@example.com" }),
    role: select(roles, { name: "role", value: "MEMBER" }),
    submit: button("Invite", { type: "submit", kind: "primary" }),
    error: errorSlot({ email: "Email", role: "Role" }),
  };
  const close = () => {
    page.formSlot.replaceChildren();
    page.inviteButton?.focus();
  };
  page.formSlot.replaceChildren(
    h(
      "form",
      { class: "card form-card", "aria-labelledby": titleId, on: { submit: (event) => invite(page, form, event) } },
      h("h2", { id: titleId }, "Invite Member"),
      h(
        "div",
        { class: "form-row" },
        field("Email", form.email),
        field("Role", form.role, { hint: "Members create and edit; Viewers only read." }),
      ),
      form.error.node,
      h("div", { class: "form-actions" }, form.submit, button("Cancel", { kind: "ghost", on: { click: close } })),
    ),
  );
  form.email.focus();
}
