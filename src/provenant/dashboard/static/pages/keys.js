// API Keys: the org's keys (OWNER and ADMIN) or one's own, and Trusted CI below them. The page is one state
// object (keysPage) that its parts read and change:
//
//   keys-list.js     the list, its filters, each key's marks; Roll and Revoke (keys-actions.js)
//   keys-usage.js    each key's requests per day
//   keys-new.js      New Key
//   keys-secret.js   the green banner: the full key, shown once after New Key or Roll
//   trusted-ci.js    Trusted CI: policies and the keys CI jobs hold now

import { apiAll } from "../api.js";
import { button, errorSlot, h, loading, mount, pageHeader } from "../dom.js";
import { may } from "../roles.js";
import { renderList, renderToolbar } from "./keys-list.js";
import { openNewKey } from "./keys-new.js";
import { leaveQuestion } from "./keys-secret.js";
import { usageState } from "./keys-usage.js";
import { trustedCiSection } from "./trusted-ci.js";

function keysPage(ctx) {
  const page = {
    ctx,
    me: ctx.me,
    seeAll: may(ctx.me, "manage_org_keys"),
    keys: [],
    members: null, // the org's members when seeAll: who created which key, and who has left
    show: "active",
    member: "",
    form: null, // New Key's form while it is open
    secret: null, // {name, key} while the green banner shows it
    usage: usageState(),
    bannerSlot: h("div", { class: "slot" }),
    formSlot: h("div", { class: "slot" }),
    toolbar: h("div", { class: "toolbar" }),
    errors: errorSlot(),
    listSlot: h("div", { class: "slot keys-list" }, loading("Loading keys…")),
  };
  const canCreate = may(ctx.me, "manage_own_keys");
  page.newKeyButton = () => (canCreate ? button("New Key", { kind: "primary", on: { click: () => openNewKey(page) } }) : null);
  page.newKey = page.newKeyButton();
  page.refresh = () => refresh(page);
  page.reload = () => reload(page);
  page.trustedCi = trustedCiSection(ctx, { reloadKeys: page.reload });
  return page;
}

async function load(page) {
  const [keys, members] = await Promise.all([
    apiAll("/org/keys", { query: { includeRevoked: "true" } }),
    page.seeAll ? apiAll("/org/members") : Promise.resolve(null),
  ]);
  Object.assign(page, { keys, members });
}

function refresh(page) {
  renderToolbar(page);
  renderList(page);
  page.trustedCi.showKeys(page.keys);
}

async function reload(page) {
  try {
    await load(page);
    page.errors.clear();
    refresh(page);
  } catch (err) {
    if (!page.ctx.isCurrent()) return;
    page.listSlot.replaceChildren();
    page.errors.show(err);
  }
}

export async function render(container, ctx) {
  const page = keysPage(ctx);
  mount(
    container,
    pageHeader("API Keys", page.newKey),
    h(
      "p",
      { class: "lede muted" },
      "Keys let the SDKs and CI act for you: with your current role, or only reading, or only ingesting. A key is shown once, when it is created or rolled.",
    ),
    page.bannerSlot,
    page.formSlot,
    h("section", { class: "section", "aria-label": "Keys" }, page.toolbar, page.errors.node, page.listSlot),
    page.trustedCi.node,
  );
  ctx.setLeaveGuard(() => leaveQuestion(page));
  await Promise.all([page.reload(), page.trustedCi.load()]);
}
