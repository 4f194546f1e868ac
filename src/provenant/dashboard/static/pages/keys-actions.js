// Roll and Revoke, on a row of API Keys. Roll makes a new key with the same name, access, rate limit and
// expiry (shown once in the green banner); the old one keeps working for the grace period chosen.

import { api } from "../api.js";
import { confirmThen, h, uniqueId } from "../dom.js";
import { showSecret } from "./keys-secret.js";

// How long the old key keeps working once rolled (graceSeconds).
const GRACE_CHOICES = [
  { value: 0, label: "Now" },
  { value: 3600, label: "1 hour" },
  { value: 86_400, label: "24 hours" },
  { value: 604_800, label: "7 days" },
];
const DEFAULT_GRACE = 86_400;

export async function revoke(page, key) {
  await confirmThen(
    {
      title: `Revoke “${key.name}”?`,
      message: [
        h("p", {}, "Revoking is permanent: every request with this key is refused from now on, and it cannot be re-activated."),
        h("p", {}, "Anything still using it will need a new key."),
      ],
      confirmLabel: "Revoke key",
      danger: true,
    },
    async () => {
      await api(`/org/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      await page.reload();
    },
    page.errors,
  );
}

/** The radio group of grace periods; choice.grace follows the one checked. */
function graceChoices() {
  const choice = { grace: DEFAULT_GRACE };
  const group = uniqueId("grace");
  const radio = (option) =>
    h("input", {
      type: "radio",
      name: group,
      value: String(option.value),
      checked: option.value === choice.grace,
      on: { change: () => (choice.grace = option.value) },
    });
  choice.node = h(
    "div",
    { class: "choices", role: "radiogroup", "aria-label": "The old key stops working" },
    GRACE_CHOICES.map((option) => h("label", { class: "choice" }, radio(option), h("span", {}, option.label))),
  );
  return choice;
}

export async function roll(page, key) {
  const choice = graceChoices();
  await confirmThen(
    {
      title: `Roll “${key.name}”?`,
      message: [
        h("p", {}, "A new key with the same name, access, rate limit and expiry is made and shown once. Put it where the old one is used."),
        h("p", {}, "The old key stops working:"),
        choice.node,
        h("p", {}, "If the old key leaked, choose Now."),
      ],
      confirmLabel: "Roll key",
    },
    async () => {
      const created = await api(`/org/keys/${encodeURIComponent(key.id)}/roll`, {
        method: "POST",
        body: { graceSeconds: choice.grace },
      });
      const period = GRACE_CHOICES.find((option) => option.value === choice.grace);
      showSecret(page, created, { replaces: key.name, stopsAfter: choice.grace ? period.label : null });
      await page.reload();
    },
    page.errors,
  );
}
