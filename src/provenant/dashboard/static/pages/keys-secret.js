// The green banner of API Keys: the full key, shown once after New Key or Roll. The key lives in
// page.secret while the banner is up (never in storage) and goes with the banner; leaving the page or
// closing the banner while it is shown asks first.
//
//   showSecret(page, created, {replaces, stopsAfter}?)  after Roll: the old key's name and how long it keeps
//                         working ("24 hours"; null when it has stopped)
//   leaveQuestion(page)   the question the router asks before leaving, or null

import { banner, button, confirmDialog, copyButton, h } from "../dom.js";

export function leaveQuestion(page) {
  if (!page.secret) return null;
  return {
    title: "Leave without the key?",
    message: `The key “${page.secret.name}” will not be shown again. Leave only once you have stored it.`,
    confirmLabel: "Leave",
  };
}

function rolledText(replaces, stopsAfter) {
  if (replaces === undefined) return null;
  if (!stopsAfter) return h("p", {}, `It replaces the old “${replaces}”, which has stopped working.`);
  return h("p", {}, `It replaces the old “${replaces}”, which keeps working for ${stopsAfter}.`);
}

async function dismiss(page) {
  const sure = await confirmDialog({
    title: "Close the key?",
    message: "The key will not be shown again. Close only once you have copied and stored it.",
    confirmLabel: "Close the key",
  });
  if (!sure) return;
  page.secret = null;
  page.bannerSlot.replaceChildren();
  page.newKey?.focus();
}

export function showSecret(page, created, { replaces, stopsAfter } = {}) {
  page.secret = { name: created.name, key: created.key };
  const title = h("h2", { tabindex: "-1" }, `Your new key “${created.name}”`);
  const done = button("I have stored the key", { kind: "primary", on: { click: () => dismiss(page) } });
  page.bannerSlot.replaceChildren(
    banner(
      "success",
      title,
      h("p", {}, h("strong", {}, "Copy it now: it will not be shown again.")),
      rolledText(replaces, stopsAfter),
      h("div", { class: "banner-row" }, h("code", { class: "secret", "data-secret": "" }, created.key), copyButton(created.key)),
      h(
        "p",
        {},
        "Store it in a secret manager or your CI's secrets and pass it as ",
        h("code", {}, "PROVENANT_API_KEY"),
        " — never in source code.",
      ),
      h("div", { class: "banner-row" }, done),
    ),
  );
  title.focus();
}
