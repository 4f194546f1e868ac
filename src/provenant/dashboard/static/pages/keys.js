// API Keys: the org's keys (OWNER and ADMIN) or one's own, New Key (with its access), Roll, Revoke, and
// each key's requests per day.
//
// The full key exists only in the answer to Create or Roll: it is shown once in the green banner, kept in
// a closure while the banner is up (never in storage), and dropped with the banner. Leaving the page or
// closing the banner while it is shown asks first.

import { api, apiAll } from "../api.js";
import { dailyBars } from "../charts.js";
import { dateText, statusBadge, timeText } from "../components.js";
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
import { count, daysBetween, exactTime, isPast, relativeTime } from "../format.js";
import { canCreateKey, canRevokeKey, canRollKey, canSeeAllKeys } from "../roles.js";
import { trustedCiSection } from "./trusted-ci.js";

const DAY = 86_400_000;
const ROTATE_AFTER_DAYS = 90;
const CI_WORDS = new Set(["ci", "cd", "github", "gitlab", "actions", "pipeline", "circleci", "jenkins", "buildkite"]);

// What each access lets a key do: the contract's "Key access and rolling", in a line each.
export const ACCESS_CHOICES = [
  {
    value: "full",
    label: "Full — acts as you",
    short: "Full access",
    hint: "Everything your role allows, now and as your role changes: for your own scripts and CI.",
  },
  {
    value: "read",
    label: "Read only",
    short: "Read only",
    hint: "Reads agents, sessions and what else your role may see; changes nothing.",
  },
  {
    value: "ingest",
    label: "Ingest only",
    short: "Ingest only",
    hint: "What an instrumented agent needs: creates agents and sessions, adds turns, ends sessions, reads only its own sessions.",
  },
];

// How long the old key keeps working once rolled (graceSeconds).
const GRACE_CHOICES = [
  { value: 0, label: "Now" },
  { value: 3600, label: "1 hour" },
  { value: 86_400, label: "24 hours" },
  { value: 604_800, label: "7 days" },
];
const DEFAULT_GRACE = 86_400;
const USAGE_DAYS = 30;
const USAGE_REQUESTS_AT_ONCE = 4;

const EXPIRY_CHOICES = [
  { value: "never", label: "No expiry" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "date", label: "A date…" },
];

export function looksLikeCi(name) {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((word) => CI_WORDS.has(word));
}

export function keyStatus(key) {
  if (key.revokedAt) return "Revoked";
  if (key.expiresAt && isPast(key.expiresAt)) return "Expired";
  return "Active";
}

function accessText(key) {
  return (ACCESS_CHOICES.find((choice) => choice.value === key.access) || ACCESS_CHOICES[0]).short;
}

// The contract's bounds of rateLimitPerMinute; the server checks them too.
const MAX_RATE_LIMIT = 1000000;

function rateLimitText(key) {
  return `Up to ${key.rateLimitPerMinute.toLocaleString("en-US")} requests a minute`;
}

function statusCell(key) {
  if (key.revokedReason === "leaked") {
    return [
      h("span", { class: "badge badge-revoked badge-leaked" }, "Revoked — found exposed"),
      h("div", { class: "sub nowrap" }, dateText(key.revokedAt, "")),
    ];
  }
  return statusBadge(keyStatus(key));
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export async function render(container, ctx) {
  const { me } = ctx;
  const seeAll = canSeeAllKeys(me);
  const state = { keys: [], members: null, show: "active", member: "", formOpen: false };
  const usage = new Map(); // key id → its days, once loaded ("failed" if that failed)
  const usageSlots = new Map(); // key id → the cell its chart goes in, for the rows on screen
  let secret = null; // {name, key} while the green banner is shown

  const newKey = canCreateKey(me) ? button("New Key", { kind: "primary", on: { click: openForm } }) : null;
  const bannerSlot = h("div", { class: "slot" });
  const formSlot = h("div", { class: "slot" });
  const listError = errorSlot();
  const toolbar = h("div", { class: "toolbar" });
  const listSlot = h("div", { class: "slot keys-list" }, loading("Loading keys…"));
  const trustedCi = trustedCiSection(ctx, { reloadKeys: () => reload() });

  mount(container,
    pageHeader("API Keys", newKey),
    h(
      "p",
      { class: "lede muted" },
      "Keys let the SDKs and CI act for you: with your current role, or only reading, or only ingesting. A key is shown once, when it is created or rolled.",
    ),
    bannerSlot,
    formSlot,
    h("section", { class: "section", "aria-label": "Keys" }, toolbar, listError.node, listSlot),
    trustedCi.node,
  );

  ctx.setLeaveGuard(() =>
    secret
      ? {
          title: "Leave without the key?",
          message: `The key “${secret.name}” will not be shown again. Leave only once you have stored it.`,
          confirmLabel: "Leave",
        }
      : null,
  );

  // ---- the list ---------------------------------------------------------------------------------

  async function load() {
    const [keys, members] = await Promise.all([
      apiAll("/org/keys", { query: { includeRevoked: "true" } }),
      seeAll ? apiAll("/org/members") : Promise.resolve(null),
    ]);
    state.keys = keys;
    state.members = members;
  }

  function creatorLeft(key) {
    return state.members !== null && !state.members.some((member) => member.id === key.user.id);
  }

  function marks(key) {
    const found = [];
    if (creatorLeft(key)) {
      found.push(h("span", { class: "mark mark-danger" }, "creator left the organization — the key no longer works"));
    }
    if (keyStatus(key) !== "Active") return found;
    const age = daysBetween(key.createdAt, new Date());
    if (age >= ROTATE_AFTER_DAYS && !key.rolledToId) {
      found.push(h("span", { class: "mark", title: `Created ${age} days ago` }, "due for rotation"));
    }
    if (key.rolledToId) {
      const until = h("time", { datetime: key.expiresAt, title: exactTime(key.expiresAt) }, relativeTime(key.expiresAt));
      found.push(h("span", { class: "mark mark-info" }, "rolled — stops working ", until));
    }
    if (!key.lastUsedAt && Date.now() - new Date(key.createdAt).getTime() > DAY) {
      found.push(h("span", { class: "mark" }, "never used — check its configuration"));
    }
    return found;
  }

  function renderToolbar() {
    const choices = [
      ["active", "Active"],
      ["all", "All"],
    ];
    const segmented = h(
      "div",
      { class: "segmented", role: "group", "aria-label": "Show" },
      choices.map(([value, label]) =>
        h(
          "button",
          {
            type: "button",
            "aria-pressed": String(state.show === value),
            on: {
              click: () => {
                state.show = value;
                refresh();
              },
            },
          },
          label,
        ),
      ),
    );
    const parts = [segmented];
    if (seeAll) {
      const people = new Map();
      for (const member of state.members || []) people.set(member.id, member.name);
      for (const key of state.keys) {
        if (!people.has(key.user.id)) people.set(key.user.id, `${key.user.name} (left)`);
      }
      const id = uniqueId("member-filter");
      const memberSelect = select(
        [{ value: "", label: "All members" }, ...[...people].map(([value, label]) => ({ value, label }))],
        {
          id,
          class: "compact",
          value: state.member,
          on: {
            change: (event) => {
              state.member = event.target.value;
              refresh();
            },
          },
        },
      );
      parts.push(h("label", { for: id }, "Created by"), memberSelect);
    }
    toolbar.replaceChildren(...parts);
  }

  function visibleKeys() {
    return state.keys.filter(
      (key) =>
        !key.ephemeral && // CI jobs' keys are listed under Trusted CI
        (state.show === "all" || keyStatus(key) === "Active") &&
        (!state.member || key.user.id === state.member),
    );
  }

  function renderList() {
    const keys = visibleKeys();
    if (!state.keys.some((key) => !key.ephemeral)) {
      listSlot.replaceChildren(
        emptyState(
          "No keys yet — create one to use the SDK",
          newKey ? button("New Key", { kind: "primary", on: { click: openForm } }) : null,
        ),
      );
      return;
    }
    if (!keys.length) {
      const text =
        state.show === "active"
          ? "No active keys here. Choose All to see revoked and expired keys."
          : "No keys match this filter.";
      listSlot.replaceChildren(emptyState(text));
      return;
    }
    const columns = [
      {
        label: "Name",
        cell: (key) => {
          const found = marks(key);
          return [
            h("div", { class: "name" }, key.name),
            h("div", { class: ["sub", `access-${key.access}`] }, accessText(key)),
            key.rateLimitPerMinute ? h("div", { class: "sub rate-limit" }, rateLimitText(key)) : null,
            found.length ? h("div", { class: "marks" }, found) : null,
          ];
        },
      },
      { label: "Key", class: "nowrap", cell: (key) => h("code", {}, `pk_live_${key.keyPrefix}…`) },
      {
        label: "Created",
        cell: (key) => [
          h("div", { class: "nowrap" }, dateText(key.createdAt, "")),
          h("div", { class: "sub", title: key.user.email }, `by ${key.user.name}`),
        ],
      },
      { label: "Expires", class: "nowrap", cell: (key) => dateText(key.expiresAt, "Never") },
      { label: "Last used", class: "nowrap", cell: (key) => timeText(key.lastUsedAt, "Never") },
      { label: `Requests, ${USAGE_DAYS} days`, class: "usage", cell: usageCell },
      { label: "Status", cell: statusCell },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        cell: (key) => {
          if (keyStatus(key) === "Revoked" || !canRevokeKey(me, key)) return null;
          const rollable = canRollKey(me, key) && keyStatus(key) === "Active" && !key.rolledToId;
          return h(
            "div",
            { class: "row-actions" },
            rollable
              ? button("Roll", { class: "button-small", "aria-label": `Roll ${key.name}`, on: { click: () => roll(key) } })
              : null,
            button("Revoke", {
              class: "button-small button-danger-text",
              "aria-label": `Revoke ${key.name}`,
              on: { click: () => revoke(key) },
            }),
          );
        },
      },
    ];
    usageSlots.clear();
    listSlot.replaceChildren(
      table(columns, keys, {
        caption: "API keys",
        rowProps: (key) => ({ class: keyStatus(key) === "Active" ? null : "is-inactive", dataset: { keyId: key.id } }),
      }),
    );
    loadUsage(keys);
  }

  // ---- requests per day -------------------------------------------------------------------------

  function usageCell(key) {
    const slot = h("div", { class: "usage-chart" });
    usageSlots.set(key.id, slot);
    fillUsage(key);
    return slot;
  }

  function fillUsage(key) {
    const slot = usageSlots.get(key.id);
    const days = usage.get(key.id);
    if (!slot || days === undefined) return;
    if (days === "failed") {
      slot.replaceChildren(h("span", { class: "faint", title: "Could not load this key's usage" }, "—"));
      return;
    }
    const total = days.reduce((sum, day) => sum + day.requests, 0);
    slot.replaceChildren(
      dailyBars(days, { label: `Requests per day of ${key.name}` }),
      h("span", { class: "usage-total", "aria-hidden": "true" }, count(total)),
    );
  }

  async function loadUsage(keys) {
    const waiting = keys.filter((key) => !usage.has(key.id));
    async function worker() {
      while (waiting.length && ctx.isCurrent()) {
        const key = waiting.shift();
        try {
          usage.set(key.id, await api(`/org/keys/${encodeURIComponent(key.id)}/usage`, { query: { days: USAGE_DAYS } }));
        } catch {
          usage.set(key.id, "failed");
        }
        fillUsage(key);
      }
    }
    await Promise.all(Array.from({ length: USAGE_REQUESTS_AT_ONCE }, worker));
  }

  function refresh() {
    renderToolbar();
    renderList();
    trustedCi.showKeys(state.keys);
  }

  async function reload() {
    try {
      await load();
      listError.clear();
      refresh();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      listSlot.replaceChildren();
      listError.show(err);
    }
  }

  async function revoke(key) {
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
        await reload();
      },
      listError,
    );
  }

  async function roll(key) {
    let grace = DEFAULT_GRACE;
    const group = uniqueId("grace");
    const choices = h(
      "div",
      { class: "choices", role: "radiogroup", "aria-label": "The old key stops working" },
      GRACE_CHOICES.map((choice) =>
        h(
          "label",
          { class: "choice" },
          h("input", {
            type: "radio",
            name: group,
            value: String(choice.value),
            checked: choice.value === grace,
            on: { change: () => (grace = choice.value) },
          }),
          h("span", {}, choice.label),
        ),
      ),
    );
    await confirmThen(
      {
        title: `Roll “${key.name}”?`,
        message: [
          h("p", {}, "A new key with the same name, access, rate limit and expiry is made and shown once. Put it where the old one is used."),
          h("p", {}, "The old key stops working:"),
          choices,
          h("p", {}, "If the old key leaked, choose Now."),
        ],
        confirmLabel: "Roll key",
      },
      async () => {
        const created = await api(`/org/keys/${encodeURIComponent(key.id)}/roll`, {
          method: "POST",
          body: { graceSeconds: grace },
        });
        showSecret(created, { replaces: key.name, graceSeconds: grace });
        await reload();
      },
      listError,
    );
  }

  // ---- New Key ----------------------------------------------------------------------------------

  function openForm() {
    if (state.formOpen) {
      formSlot.querySelector("input")?.focus();
      return;
    }
    state.formOpen = true;
    const nameId = uniqueId("key-name");
    const name = h("input", {
      id: nameId,
      type: "text",
      name: "name",
      required: true,
      maxlength: 100,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "e.g. prod-ingestion or github-actions-ci",
    });
    let expiry = "never";
    const dateInput = h("input", { type: "datetime-local", name: "expiresAt", hidden: true, "aria-label": "Expiry date and time" });
    const dateHint = h("p", { class: "hint", hidden: true }, "In your local time.");
    const warning = h("p", { class: "field-warning", role: "status" });
    const suggestion = h("div", { class: "slot" });
    const group = uniqueId("expiry");
    const radios = EXPIRY_CHOICES.map((choice) =>
      h(
        "label",
        { class: "choice" },
        h("input", {
          type: "radio",
          name: group,
          value: choice.value,
          checked: choice.value === expiry,
          on: { change: () => chooseExpiry(choice.value) },
        }),
        h("span", {}, choice.label),
      ),
    );
    let access = "full";
    const accessGroup = uniqueId("access");
    const accessChoices = ACCESS_CHOICES.map((choice) => {
      const hintId = uniqueId("access-hint");
      return h(
        "div",
        { class: "access-choice" },
        h(
          "label",
          {},
          h("input", {
            type: "radio",
            name: accessGroup,
            value: choice.value,
            checked: choice.value === access,
            "aria-describedby": hintId,
            on: { change: () => (access = choice.value) },
          }),
          h("span", {}, choice.label),
        ),
        h("p", { class: "hint", id: hintId }, choice.hint),
      );
    });
    const rateLimit = h("input", {
      type: "number",
      name: "rateLimitPerMinute",
      min: 1,
      max: MAX_RATE_LIMIT,
      step: 1,
      inputmode: "numeric",
      autocomplete: "off",
      placeholder: "No limit",
    });
    const submit = button("Create", { type: "submit", kind: "primary" });
    const error = errorSlot({ name: "Name", expiresAt: "Expiry", access: "Access", rateLimitPerMinute: "Rate limit" });

    function expiresAt() {
      if (expiry === "never") return null;
      if (expiry === "date") return dateInput.value ? new Date(dateInput.value) : undefined;
      return new Date(Date.now() + Number(expiry) * DAY);
    }

    function chooseExpiry(value) {
      expiry = value;
      for (const radio of radios) radio.querySelector("input").checked = radio.querySelector("input").value === value;
      dateInput.hidden = value !== "date";
      dateHint.hidden = value !== "date";
      if (value === "date") {
        dateInput.required = true;
        dateInput.min = localInputValue(new Date());
        if (!dateInput.value) dateInput.value = localInputValue(new Date(Date.now() + 30 * DAY));
        dateInput.focus();
      } else {
        dateInput.required = false;
      }
      update();
    }

    function update() {
      const when = expiresAt();
      if (when instanceof Date && !Number.isNaN(when.getTime())) {
        const left = when.getTime() - Date.now();
        if (left <= 0) warning.textContent = "This moment has passed: choose a time in the future.";
        else if (left < DAY) warning.textContent = `This key will expire in less than a day (${relativeTime(when.toISOString())}).`;
        else warning.textContent = "";
      } else {
        warning.textContent = "";
      }
      if (expiry === "never" && looksLikeCi(name.value)) {
        suggestion.replaceChildren(
          h(
            "p",
            { class: "hint suggestion" },
            "This looks like a CI key: shorter-lived keys reduce the damage if one leaks. ",
            button("Expire in 90 days", { class: "button-small", on: { click: () => chooseExpiry("90") } }),
          ),
        );
      } else {
        suggestion.replaceChildren();
      }
    }

    name.addEventListener("input", update);
    dateInput.addEventListener("input", update);

    function close() {
      state.formOpen = false;
      formSlot.replaceChildren();
      newKey?.focus();
    }

    async function create(event) {
      event.preventDefault();
      error.clear();
      const when = expiresAt();
      if (when === undefined) {
        error.show({ status: 0, message: "Choose the date and time the key expires." });
        dateInput.focus();
        return;
      }
      submit.disabled = true;
      try {
        const created = await api("/org/keys", {
          method: "POST",
          body: {
            name: name.value.trim(),
            expiresAt: when ? when.toISOString() : null,
            access,
            rateLimitPerMinute: rateLimit.value === "" ? null : Number(rateLimit.value),
          },
        });
        state.formOpen = false;
        formSlot.replaceChildren();
        showSecret(created);
        await reload();
      } catch (err) {
        error.show(err);
        submit.disabled = false;
      }
    }

    formSlot.replaceChildren(
      h(
        "form",
        { class: "card form-card", "aria-labelledby": `${nameId}-title`, on: { submit: create } },
        h("h2", { id: `${nameId}-title` }, "New Key"),
        field("Name", name, { hint: "Say where it is used, so you know what breaks if you revoke it." }),
        h(
          "fieldset",
          { class: "field choices-field" },
          h("legend", { class: "fieldset-legend" }, "Access"),
          h("div", { class: "access-choices" }, accessChoices),
        ),
        h(
          "fieldset",
          { class: "field choices-field" },
          h("legend", { class: "fieldset-legend" }, "Expiry"),
          h("div", { class: "choices" }, radios),
          dateInput,
          dateHint,
          warning,
          suggestion,
        ),
        field("Rate limit (requests per minute)", rateLimit, {
          hint: "Optional, 1 to 1,000,000. Past it, requests with this key are refused (429) until the minute ends. Empty: no limit.",
        }),
        error.node,
        h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: close } })),
      ),
    );
    name.focus();
  }

  // ---- the green banner -------------------------------------------------------------------------

  function showSecret(created, { replaces, graceSeconds } = {}) {
    secret = { name: created.name, key: created.key };
    const done = button("I have stored the key", { kind: "primary", on: { click: dismiss } });
    let rolled = null;
    if (replaces !== undefined) {
      const choice = GRACE_CHOICES.find((option) => option.value === graceSeconds);
      rolled = h(
        "p",
        {},
        graceSeconds
          ? `It replaces the old “${replaces}”, which keeps working for ${choice ? choice.label : `${graceSeconds} seconds`}.`
          : `It replaces the old “${replaces}”, which has stopped working.`,
      );
    }
    bannerSlot.replaceChildren(
      banner(
        "success",
        h("h2", {}, `Your new key “${created.name}”`),
        h("p", {}, h("strong", {}, "Copy it now: it will not be shown again.")),
        rolled,
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
    bannerSlot.querySelector("h2").setAttribute("tabindex", "-1");
    bannerSlot.querySelector("h2").focus();
  }

  async function dismiss() {
    const sure = await confirmDialog({
      title: "Close the key?",
      message: "The key will not be shown again. Close only once you have copied and stored it.",
      confirmLabel: "Close the key",
    });
    if (!sure) return;
    secret = null;
    bannerSlot.replaceChildren();
    newKey?.focus();
  }

  await Promise.all([reload(), trustedCi.load()]);
}
