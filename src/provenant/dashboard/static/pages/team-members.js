// Team's members: the table (the Role select, Reset password… and Remove only where the viewer may), and
// what those do. A reset link issued for a member is shown once in the green banner.
//
//   roleBadge(role), linkBanner(page, {title, text, link, onDone})   shared with the invitations
//   loadMembers(page)

import { api, apiAll } from "../api.js";
import { authConfig } from "../authconfig.js";
import { dateText } from "../components.js";
import { banner, button, confirmDialog, confirmThen, copyButton, h, select, table } from "../dom.js";
import { canIssuePasswordReset, canRemove, roleChoices, roleLabel } from "../roles.js";
import { ssoBadge } from "./sso-settings.js";
import { twoFactorBadge } from "./team-two-factor.js";

export function roleBadge(role) {
  return h("span", { class: "role-badge", dataset: { role } }, roleLabel(role));
}

/** A link shown once in the green banner (an invitation, a password reset), with Copy and Done. */
export function linkBanner(page, { title, text, link, onDone }) {
  const heading = h("h2", { tabindex: "-1" }, title);
  const done = () => {
    page.bannerSlot.replaceChildren();
    onDone?.();
  };
  page.bannerSlot.replaceChildren(
    banner(
      "success",
      heading,
      h("p", {}, text),
      h("div", { class: "banner-row" }, h("code", { class: "secret" }, link), copyButton(link)),
      h("div", { class: "banner-row" }, button("Done", { on: { click: done } })),
    ),
  );
  heading.focus();
}

async function confirmOwnerChange(member, role) {
  if (role !== "OWNER" && member.role !== "OWNER") return true;
  return confirmDialog({
    title: `Make ${member.name} ${/^[AEIOU]/.test(role) ? "an" : "a"} ${roleLabel(role)}?`,
    message:
      role === "OWNER"
        ? "An Owner can do everything in the organization, including changing your role or removing you."
        : `${member.name} will no longer be an Owner.`,
    confirmLabel: "Change role",
  });
}

async function changeRole(page, member, control) {
  const role = control.value;
  if (!(await confirmOwnerChange(member, role))) {
    control.value = member.role;
    return;
  }
  control.disabled = true;
  try {
    await api(`/org/members/${encodeURIComponent(member.id)}/role`, { method: "PATCH", body: { role } });
    page.membersError.clear();
    await loadMembers(page);
  } catch (err) {
    control.value = member.role;
    control.disabled = false;
    page.membersError.show(err);
  }
}

async function remove(page, member) {
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
      await loadMembers(page);
    },
    page.membersError,
  );
}

function showResetLink(page, member, issued) {
  linkBanner(page, {
    title: `Password reset link for ${member.name}`,
    text: [
      `Send it to ${member.email} privately. It works once, for one hour, and is shown only now. `,
      `Using it signs ${member.name} out everywhere.`,
    ],
    link: issued.resetLink,
  });
}

async function issueReset(page, member) {
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
      showResetLink(page, member, issued);
    },
    page.membersError,
  );
}

function roleCell(page, member) {
  const choices = roleChoices(page.me, member);
  if (!choices.length) return roleBadge(member.role);
  return select(
    choices.map((role) => ({ value: role, label: roleLabel(role) })),
    {
      class: "compact",
      value: member.role,
      "aria-label": `Role of ${member.name}`,
      on: { change: (event) => changeRole(page, member, event.target) },
    },
  );
}

// Stacked, as on API Keys: side by side, the two pushed Remove out of the table at 1280 px.
function actionsCell(page, member) {
  const reset = button("Reset password…", {
    class: "button-small",
    "aria-label": `Reset password of ${member.name}`,
    on: { click: () => issueReset(page, member) },
  });
  const removal = button("Remove", {
    class: "button-small button-danger-text",
    "aria-label": `Remove ${member.name}`,
    on: { click: () => remove(page, member) },
  });
  return h(
    "div",
    { class: "row-actions" },
    canIssuePasswordReset(page.me, member) ? reset : null,
    canRemove(page.me, member) ? removal : null,
  );
}

function renderMembers(page) {
  const columns = [
    {
      label: "Name",
      cell: (member) => [
        h("span", { class: "name" }, member.name),
        member.id === page.me.id ? h("span", { class: "faint" }, " (you)") : null,
        ssoBadge(member),
      ],
    },
    { label: "Email", cell: (member) => member.email },
    { label: "Role", cell: (member) => roleCell(page, member) },
    { label: "Two-factor", cell: twoFactorBadge },
    { label: "Joined", class: "nowrap", cell: (member) => dateText(member.createdAt) },
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: (member) => actionsCell(page, member) },
  ];
  const rowProps = (member) => ({ dataset: { userId: member.id } });
  page.membersSlot.replaceChildren(table(columns, page.members, { caption: "Members", rowProps }));
}

export async function loadMembers(page) {
  try {
    page.members = await apiAll("/org/members");
    page.membersError.clear();
    renderMembers(page);
  } catch (err) {
    if (!page.ctx.isCurrent()) return;
    page.membersSlot.replaceChildren();
    page.membersError.show(err);
  }
}
