// Team: the members (Role select, Reset password… and Remove only where the viewer may), Invite Member with
// the link in a green banner, and the pending invitations with Cancel (OWNER and ADMIN). A reset link issued
// for a member is shown once in the same kind of banner. Without email on the server, a notice says that
// links are not sent and must be handed over.

import { api, apiAll } from "../api.js";
import { authConfig } from "../authconfig.js";
import { dateText, timeText } from "../components.js";
import {
  banner,
  button,
  confirmDialog,
  confirmThen,
  copyButton,
  emptyState,
  errorSlot,
  field,
  h,
  loading,
  mount,
  pageHeader,
  select,
  table,
  uniqueId,
} from "../dom.js";
import { canInvite, canIssuePasswordReset, canRemove, invitableRoles, roleChoices, roleLabel } from "../roles.js";
import { ssoBadge, ssoTeamSection } from "./sso-settings.js";
import { requireTwoFactorSection, twoFactorBadge } from "./team-two-factor.js";

function roleBadge(role) {
  return h("span", { class: "role-badge", dataset: { role } }, roleLabel(role));
}

export async function render(container, ctx) {
  const { me } = ctx;
  const inviter = canInvite(me);
  const state = { members: [], invitations: [] };

  const inviteButton = inviter ? button("Invite Member", { kind: "primary", on: { click: openInvite } }) : null;
  const bannerSlot = h("div", { class: "slot" });
  const noticeSlot = h("div", { class: "slot" });
  const formSlot = h("div", { class: "slot" });
  const membersError = errorSlot({ role: "Role" });
  const membersSlot = h("div", { class: "slot" }, loading("Loading members…"));
  const invitationsError = errorSlot();
  const invitationsSlot = h("div", { class: "slot" });

  mount(container,
    pageHeader("Team", inviteButton),
    noticeSlot,
    bannerSlot,
    formSlot,
    h(
      "section",
      { class: "section", "aria-labelledby": "members-title" },
      h("div", { class: "section-header" }, h("h2", { id: "members-title" }, "Members")),
      membersError.node,
      membersSlot,
    ),
    requireTwoFactorSection(ctx),
    ssoTeamSection(ctx),
    inviter
      ? h(
          "section",
          { class: "section", "aria-labelledby": "invitations-title" },
          h("div", { class: "section-header" }, h("h2", { id: "invitations-title" }, "Pending invitations")),
          invitationsError.node,
          invitationsSlot,
        )
      : null,
  );

  // ---- members ----------------------------------------------------------------------------------

  function roleCell(member) {
    const choices = roleChoices(me, member);
    if (!choices.length) return roleBadge(member.role);
    return select(
      choices.map((role) => ({ value: role, label: roleLabel(role) })),
      {
        class: "compact",
        value: member.role,
        "aria-label": `Role of ${member.name}`,
        on: { change: (event) => changeRole(member, event.target) },
      },
    );
  }

  function renderMembers() {
    const columns = [
      {
        label: "Name",
        cell: (member) => [
          h("span", { class: "name" }, member.name),
          member.id === me.id ? h("span", { class: "faint" }, " (you)") : null,
          ssoBadge(member),
        ],
      },
      { label: "Email", cell: (member) => member.email },
      { label: "Role", cell: roleCell },
      { label: "Two-factor", cell: twoFactorBadge },
      { label: "Joined", class: "nowrap", cell: (member) => dateText(member.createdAt) },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        // Stacked, as on API Keys: side by side, the two pushed Remove out of the table at 1280 px.
        cell: (member) => h(
          "div",
          { class: "row-actions" },
          canIssuePasswordReset(me, member)
            ? button("Reset password…", {
                class: "button-small",
                "aria-label": `Reset password of ${member.name}`,
                on: { click: () => issueReset(member) },
              })
            : null,
          canRemove(me, member)
            ? button("Remove", {
                class: "button-small button-danger-text",
                "aria-label": `Remove ${member.name}`,
                on: { click: () => remove(member) },
              })
            : null,
        ),
      },
    ];
    membersSlot.replaceChildren(
      table(columns, state.members, { caption: "Members", rowProps: (member) => ({ dataset: { userId: member.id } }) }),
    );
  }

  async function loadMembers() {
    try {
      state.members = await apiAll("/org/members");
      membersError.clear();
      renderMembers();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      membersSlot.replaceChildren();
      membersError.show(err);
    }
  }

  async function changeRole(member, control) {
    const role = control.value;
    if (role === "OWNER" || member.role === "OWNER") {
      const sure = await confirmDialog({
        title: `Make ${member.name} ${/^[AEIOU]/.test(role) ? "an" : "a"} ${roleLabel(role)}?`,
        message:
          role === "OWNER"
            ? "An Owner can do everything in the organization, including changing your role or removing you."
            : `${member.name} will no longer be an Owner.`,
        confirmLabel: "Change role",
      });
      if (!sure) {
        control.value = member.role;
        return;
      }
    }
    control.disabled = true;
    try {
      await api(`/org/members/${encodeURIComponent(member.id)}/role`, { method: "PATCH", body: { role } });
      membersError.clear();
      await loadMembers();
    } catch (err) {
      control.value = member.role;
      control.disabled = false;
      membersError.show(err);
    }
  }

  async function remove(member) {
    await confirmThen(
      {
        title: `Remove ${member.name}?`,
        message: [
          h("p", {}, `${member.name} (${member.email}) loses access at once: signed-in sessions end and their API keys stop working.`),
          h("p", {}, "Their keys stay listed on API Keys so that you can see and revoke them."),
        ],
        confirmLabel: "Remove member",
        danger: true,
      },
      async () => {
        await api(`/org/members/${encodeURIComponent(member.id)}`, { method: "DELETE" });
        await loadMembers();
      },
      membersError,
    );
  }

  async function issueReset(member) {
    const config = await authConfig();
    await confirmThen(
      {
        title: `Issue a password reset link for ${member.name}?`,
        message: [
          h("p", {}, "You get a link that sets a new password for ", h("strong", {}, member.email), ". It works once, for one hour, and is shown only to you: hand it over privately."),
          h("p", {}, "Using it signs them out everywhere. Links issued before stop working."),
          config.passwordReset ? h("p", {}, `${member.name} is emailed that you issued it.`) : null,
        ],
        confirmLabel: "Issue reset link",
      },
      async () => {
        const issued = await api(`/org/members/${encodeURIComponent(member.id)}/password-reset`, { method: "POST" });
        showResetLink(member, issued);
      },
      membersError,
    );
  }

  function showResetLink(member, issued) {
    const close = button("Done", { on: { click: () => bannerSlot.replaceChildren() } });
    bannerSlot.replaceChildren(
      banner(
        "success",
        h("h2", { tabindex: "-1" }, `Password reset link for ${member.name}`),
        h("p", {}, `Send it to ${member.email} privately. It works once, for one hour, and is shown only now. `,
          `Using it signs ${member.name} out everywhere.`),
        h("div", { class: "banner-row" }, h("code", { class: "secret" }, issued.resetLink), copyButton(issued.resetLink)),
        h("div", { class: "banner-row" }, close),
      ),
    );
    bannerSlot.querySelector("h2").focus();
  }

  async function showEmailNotice() {
    if (!inviter) return;
    const config = await authConfig();
    if (config.passwordReset || !ctx.isCurrent()) return;
    noticeSlot.replaceChildren(
      banner(
        "info",
        h("p", {}, h("strong", {}, "Email is not configured on this server. "),
          "Invitations and password reset links are not emailed: copy each link from its banner and send it yourself. ",
          "The server's operator can set PROVENANT_SMTP_URL to turn email on."),
      ),
    );
  }

  // ---- invitations ------------------------------------------------------------------------------

  function renderInvitations() {
    if (!state.invitations.length) {
      invitationsSlot.replaceChildren(emptyState("No pending invitations."));
      return;
    }
    const columns = [
      { label: "Email", cell: (invitation) => h("span", { class: "name" }, invitation.email) },
      { label: "Role", cell: (invitation) => roleBadge(invitation.role) },
      {
        label: "Invited by",
        cell: (invitation) => (invitation.invitedBy ? invitation.invitedBy.name : ""),
      },
      {
        label: "Expires",
        class: "nowrap",
        cell: (invitation) => timeText(invitation.expiresAt),
      },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        cell: (invitation) =>
          button("Cancel", {
            class: "button-small button-danger-text",
            "aria-label": `Cancel the invitation of ${invitation.email}`,
            on: { click: () => cancelInvitation(invitation) },
          }),
      },
    ];
    invitationsSlot.replaceChildren(table(columns, state.invitations, { caption: "Pending invitations" }));
  }

  async function loadInvitations() {
    if (!inviter) return;
    try {
      state.invitations = await apiAll("/org/invitations");
      invitationsError.clear();
      renderInvitations();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      invitationsSlot.replaceChildren();
      invitationsError.show(err);
    }
  }

  async function cancelInvitation(invitation) {
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
        await loadInvitations();
      },
      invitationsError,
    );
  }

  function openInvite() {
    if (formSlot.firstChild) {
      formSlot.querySelector("input")?.focus();
      return;
    }
    const titleId = uniqueId("invite-title");
    const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off", placeholder: "name@example.com" });
    const roles = invitableRoles(me);
    const role = select(
      roles.map((value) => ({ value, label: roleLabel(value) })),
      { name: "role", value: "MEMBER" },
    );
    const submit = button("Invite", { type: "submit", kind: "primary" });
    const error = errorSlot({ email: "Email", role: "Role" });

    function close() {
      formSlot.replaceChildren();
      inviteButton?.focus();
    }

    async function invite(event) {
      event.preventDefault();
      error.clear();
      submit.disabled = true;
      try {
        const created = await api("/org/invitations", {
          method: "POST",
          body: { email: email.value.trim(), role: role.value },
        });
        formSlot.replaceChildren();
        showLink(created);
        await loadInvitations();
      } catch (err) {
        error.show(err);
        submit.disabled = false;
      }
    }

    formSlot.replaceChildren(
      h(
        "form",
        { class: "card form-card", "aria-labelledby": titleId, on: { submit: invite } },
        h("h2", { id: titleId }, "Invite Member"),
        h(
          "div",
          { class: "form-row" },
          field("Email", email),
          field("Role", role, { hint: "Members create and edit; Viewers only read." }),
        ),
        error.node,
        h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: close } })),
      ),
    );
    email.focus();
  }

  function showLink(invitation) {
    const close = button("Done", { on: { click: () => {
      bannerSlot.replaceChildren();
      inviteButton?.focus();
    } } });
    bannerSlot.replaceChildren(
      banner(
        "success",
        h("h2", { tabindex: "-1" }, `Invitation for ${invitation.email} (${roleLabel(invitation.role)})`),
        h("p", {}, "Send them this link. It works once, until ", dateText(invitation.expiresAt), ", and is shown only now."),
        h("div", { class: "banner-row" }, h("code", { class: "secret" }, invitation.inviteLink), copyButton(invitation.inviteLink)),
        h("div", { class: "banner-row" }, close),
      ),
    );
    bannerSlot.querySelector("h2").focus();
  }

  await Promise.all([loadMembers(), loadInvitations(), showEmailNotice()]);
}
