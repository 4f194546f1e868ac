// Team, for OWNERs: "Require two-factor sign-in" (PATCH /api/org/settings {requireTwoFactor}), and the badge
// that says who has two-factor sign-in on (the members list's twoFactor).
//
//   twoFactorBadge(member)          "On" or "Off"
//   requireTwoFactorSection(ctx, {onChange})  a <section> with the setting; null for anyone but an OWNER
//                                   signed in with a password (the API lets no one else change it)

import { api } from "../api.js";
import { errorSlot, h, loading } from "../dom.js";
import { canManageOrgSettings } from "../roles.js";

export function twoFactorBadge(member) {
  return member.twoFactor
    ? h("span", { class: "badge badge-active" }, "On")
    : h("span", { class: "badge badge-off" }, "Off");
}

export function requireTwoFactorSection(ctx, { onChange } = {}) {
  if (!canManageOrgSettings(ctx.me)) return null;
  const error = errorSlot();
  const slot = h("div", { class: "slot" }, loading("Loading settings…"));
  const hintId = "require-two-factor-hint";
  const toggle = h("input", { type: "checkbox", id: "require-two-factor", "aria-describedby": hintId });

  async function change() {
    const wanted = toggle.checked;
    toggle.disabled = true;
    error.clear();
    try {
      const settings = await api("/org/settings", { method: "PATCH", body: { requireTwoFactor: wanted } });
      toggle.checked = settings.requireTwoFactor;
      onChange?.(settings);
    } catch (err) {
      toggle.checked = !wanted;
      error.show(err);
    } finally {
      toggle.disabled = false;
    }
  }
  toggle.addEventListener("change", change);

  (async () => {
    try {
      const settings = await api("/org/settings");
      if (!ctx.isCurrent()) return;
      toggle.checked = settings.requireTwoFactor;
      slot.replaceChildren(
        h(
          "div",
          { class: "setting" },
          toggle,
          h("label", { for: toggle.id }, "Require two-factor sign-in"),
        ),
        h(
          "p",
          { class: "hint", id: hintId },
          "Members signed in without it can do nothing but set it up (or sign out) until they turn it on. ",
          "API keys keep working.",
        ),
      );
    } catch (err) {
      if (!ctx.isCurrent()) return;
      slot.replaceChildren();
      error.show(err);
    }
  })();

  return h(
    "section",
    { class: "section", "aria-labelledby": "security-title" },
    h("div", { class: "section-header" }, h("h2", { id: "security-title" }, "Security")),
    error.node,
    slot,
  );
}
