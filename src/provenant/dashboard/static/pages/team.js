// Team: the members (team-members.js), the org's two-factor requirement (team-two-factor.js), and for
// whoever may invite, Invite Member and the pending invitations (team-invitations.js). Without email on
// the server, a notice says that links are not sent and must be handed over.

import { authConfig } from "../authconfig.js";
import { banner, button, errorSlot, h, loading, mount, pageHeader } from "../dom.js";
import { may } from "../roles.js";
import { loadInvitations, openInvite } from "./team-invitations.js";
import { loadMembers } from "./team-members.js";
import { ssoTeamSection } from "./sso-settings.js";
import { requireTwoFactorSection } from "./team-two-factor.js";

function teamPage(ctx) {
  const page = {
    ctx,
    me: ctx.me,
    inviter: may(ctx.me, "invite"),
    members: [],
    invitations: [],
    bannerSlot: h("div", { class: "slot" }),
    noticeSlot: h("div", { class: "slot" }),
    formSlot: h("div", { class: "slot" }),
    membersError: errorSlot({ role: "Role" }),
    membersSlot: h("div", { class: "slot" }, loading("Loading members…")),
    invitationsError: errorSlot(),
    invitationsSlot: h("div", { class: "slot" }),
  };
  page.inviteButton = page.inviter ? button("Invite Member", { kind: "primary", on: { click: () => openInvite(page) } }) : null;
  return page;
}

function section(titleId, title, ...children) {
  return h(
    "section",
    { class: "section", "aria-labelledby": titleId },
    h("div", { class: "section-header" }, h("h2", { id: titleId }, title)),
    children,
  );
}

async function showEmailNotice(page) {
  if (!page.inviter) return;
  const config = await authConfig();
  if (config.passwordReset || !page.ctx.isCurrent()) return;
  page.noticeSlot.replaceChildren(
    banner(
      "info",
      h("p", {}, h("strong", {}, "Email is not configured on this server. "),
        "Invitations and password reset links are not emailed: copy each link from its banner and send it yourself. ",
        "The server's operator can set PROVENANT_SMTP_URL to turn email on."),
    ),
  );
}

export async function render(container, ctx) {
  const page = teamPage(ctx);
  mount(container,
    pageHeader("Team", page.inviteButton),
    page.noticeSlot,
    page.bannerSlot,
    page.formSlot,
    section("members-title", "Members", page.membersError.node, page.membersSlot),
    requireTwoFactorSection(ctx),
    ssoTeamSection(ctx),
    page.inviter
      ? section("invitations-title", "Pending invitations", page.invitationsError.node, page.invitationsSlot)
      : null,
  );
  await Promise.all([loadMembers(page), loadInvitations(page), showEmailNotice(page)]);
}
