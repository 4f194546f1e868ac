// The dashboard's router, shell and sign-in state. Loaded by index.html; everything else is imported.
//
// A page is a module in pages/ that exports
//     async function render(container, ctx)
// and fills `container` (already empty). ctx:
//     me        GET /api/auth/me's body ({id, name, email, role, orgId, org: {id, name, slug}, authMethod}),
//               null on the public pages (Sign in, Register, Accept invitation)
//     params    the path's parameters: {id} for /agents/{id} and /sessions/{id}
//     query     URLSearchParams of the address
//     navigate(path, {replace}) go to another page of the dashboard (plain <a href="/..."> links work too)
//     setLeaveGuard(fn | null)  fn() returns null when leaving is fine, else {title, message, confirmLabel}:
//               the router asks that question before leaving the page, and the tab's beforeunload guard
//               holds while it returns one. Cleared on every page change.
//     signIn(token, path)       public pages: keep the JWT, then go to path (or where the user was headed)
//     flash     a sentence to show once (e.g. "Your session has ended…"), or null
//     isCurrent() false once the user has moved to another page (skip late updates)
// Routes whose module is missing yet (the file not written) show a plain "coming soon" state.

import { api, clearToken, getToken, onSessionEnded, setToken } from "./api.js";
import { button, clear, confirmDialog, emptyState, errorMessage, h, loading, mount, pageHeader } from "./dom.js";
import { canManageOrgSettings, canReadAudit, roleLabel } from "./roles.js";

const PUBLIC_ROUTES = [
  { path: "/signin", module: "signin", title: "Sign in" },
  { path: "/register", module: "register", title: "Register" },
  { path: "/accept-invitation", module: "accept-invitation", title: "Accept invitation" },
  { path: "/forgot-password", module: "forgot-password", title: "Forgot password" },
  // Open to a signed-in browser too: a link issued for someone else may be opened where its issuer is signed in.
  { path: "/reset-password", module: "reset-password", title: "Reset password", signedIn: true },
  // Where single sign-on and GitHub end: its one-time code replaces whatever session the browser had.
  { path: "/sso-complete", module: "sso-complete", title: "Signing in", signedIn: true },
];

const ROUTES = [
  { path: "/agents", module: "agents", title: "Agents", nav: "/agents" },
  { path: "/agents/:id", module: "agents", title: "Agent", nav: "/agents" },
  { path: "/sessions", module: "sessions", title: "Sessions", nav: "/sessions" },
  { path: "/sessions/:id", module: "sessions", title: "Session", nav: "/sessions" },
  { path: "/keys", module: "keys", title: "API Keys", nav: "/keys" },
  { path: "/team", module: "team", title: "Team", nav: "/team" },
  { path: "/audit", module: "audit", title: "Audit Log", nav: "/audit", allowed: canReadAudit },
  { path: "/account", module: "account", title: "Account" },
  { path: "/settings/sso", module: "sso-settings", title: "Single sign-on", nav: "/team", allowed: canManageOrgSettings },
];

const NAV = [
  { href: "/agents", label: "Agents" },
  { href: "/sessions", label: "Sessions" },
  { href: "/keys", label: "API Keys" },
  { href: "/team", label: "Team" },
  { href: "/audit", label: "Audit Log", allowed: canReadAudit },
];

const HOME = "/agents";
const root = document.getElementById("app");

let me = null;
let shell = null;
let flash = null;
let leaveGuard = null;
let renderCount = 0;
let sessionEnding = false;
let currentPath = location.pathname + location.search;

function match(routes, path) {
  const parts = path.split("/").filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    const same = pattern.every((segment, index) => {
      if (segment.startsWith(":")) {
        params[segment.slice(1)] = decodeURIComponent(parts[index]);
        return true;
      }
      return segment === parts[index];
    });
    if (same) return { route, params };
  }
  return null;
}

/** Only paths of this dashboard are followed after sign-in (never another origin, never //host). */
function safeNext(value) {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : HOME;
}

async function mayLeave() {
  const question = leaveGuard && leaveGuard();
  if (!question) return true;
  const leave = await confirmDialog({ confirmLabel: "Leave", danger: true, ...question });
  if (leave) leaveGuard = null;
  return leave;
}

export async function navigate(path, { replace = false, message = null, force = false } = {}) {
  if (!force && !(await mayLeave())) return;
  leaveGuard = null;
  flash = message;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  await route({ focus: true });
}

async function loadPage(name) {
  try {
    return await import(`./pages/${name}.js`);
  } catch (err) {
    console.error(`The ${name} page could not be loaded`, err);
    return null;
  }
}

function comingSoon(container, title) {
  mount(container, pageHeader(title), emptyState(`${title} is coming soon.`));
}

async function showPage(container, route, params, ctxExtra) {
  const id = renderCount;
  const module = await loadPage(route.module);
  if (id !== renderCount) return;
  if (!module || typeof module.render !== "function") {
    comingSoon(container, route.title);
    return;
  }
  const ctx = {
    me,
    params,
    query: new URLSearchParams(location.search),
    navigate,
    setLeaveGuard: (guard) => {
      if (id === renderCount) leaveGuard = guard;
    },
    isCurrent: () => id === renderCount,
    flash: null,
    ...ctxExtra,
  };
  try {
    await module.render(container, ctx);
  } catch (err) {
    if (id !== renderCount || sessionEnding) return;
    console.error(err);
    mount(container, errorMessage(err));
  }
}

function focusHeading(container) {
  const heading = container.querySelector("h1");
  if (heading) {
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

// ---- the public pages: a centred card -------------------------------------------------------------

async function renderPublic(route, params, { focus }) {
  shell = null;
  const container = h("div", { class: "auth-card" });
  clear(root).append(
    h(
      "main",
      { class: "auth-layout", id: "main" },
      h("div", { class: "auth-brand" }, brandMark(), h("span", {}, "Provenant")),
      container,
    ),
  );
  const message = flash;
  flash = null;
  await showPage(container, route, params, {
    me: null,
    flash: message,
    signIn: async (token, path) => {
      setToken(token);
      me = null;
      await navigate(path || safeNext(new URLSearchParams(location.search).get("next")), {
        replace: true,
        force: true,
      });
    },
  });
  if (focus) focusHeading(container);
}

// ---- the shell: dark sidebar and the page beside it (on a phone, a bar with a menu) -------------

function brandMark() {
  return h("span", { class: "brand-mark", "aria-hidden": "true" }, "P");
}

function buildShell() {
  const nav = h("ul", { class: "nav" });
  const userName = h("p", { class: "user-name" });
  const userOrg = h("p", { class: "user-org" });
  const userRole = h("span", { class: "role-badge" });
  const page = h("div", { class: "page" });
  const signOut = button("Sign out", { class: "sign-out", on: { click: signOutClicked } });
  // The account menu: a disclosure (no script needed to open it; Escape and focus behave natively).
  const accountError = h("div", { class: "account-error" });
  const accountMenu = h(
    "details",
    { class: "account-menu" },
    h("summary", {}, "Account"),
    h(
      "ul",
      {},
      h("li", {}, h("a", { href: "/account" }, "Change password")),
      h("li", {}, h("a", { href: "/account#two-factor" }, "Two-factor sign-in")),
      h(
        "li",
        {},
        button("Sign out everywhere", { on: { click: () => signOutEverywhereClicked(accountError) } }),
      ),
    ),
    accountError,
  );
  // On a phone the sidebar is a bar along the top whose Menu button opens the navigation and the user block
  // (style.css hides the button, and shows both, at wider widths).
  const menu = h(
    "div",
    { class: "sidebar-menu", id: "sidebar-menu" },
    h("nav", { "aria-label": "Main" }, nav),
    h("div", { class: "sidebar-user" }, userName, userOrg, h("p", {}, userRole), accountMenu, signOut),
  );
  const menuButton = button("Menu", {
    class: "menu-toggle",
    "aria-expanded": "false",
    "aria-controls": "sidebar-menu",
    on: { click: () => setMenuOpen(menuButton.getAttribute("aria-expanded") !== "true") },
  });
  const sidebar = h(
    "aside",
    {
      class: "sidebar",
      // Escape closes the open menu from anywhere inside it, and gives the focus back to its button.
      on: {
        keydown: (event) => {
          if (event.key !== "Escape" || menuButton.getAttribute("aria-expanded") !== "true") return;
          setMenuOpen(false);
          menuButton.focus();
        },
      },
    },
    h("div", { class: "sidebar-top" }, h("a", { class: "brand", href: HOME }, brandMark(), h("span", {}, "Provenant")), menuButton),
    menu,
  );
  function setMenuOpen(open) {
    menuButton.setAttribute("aria-expanded", String(open));
    sidebar.classList.toggle("is-open", open);
  }
  root.replaceChildren(
    h("a", { class: "skip-link", href: "#main" }, "Skip to content"),
    h("div", { class: "shell" }, sidebar, h("main", { class: "main", id: "main", tabindex: "-1" }, page)),
  );
  return { nav, userName, userOrg, userRole, page, closeMenu: () => setMenuOpen(false) };
}

function updateShell(activeNav) {
  if (!shell) shell = buildShell();
  shell.closeMenu(); // a page chosen from the open menu shows without it
  shell.userName.textContent = me.name;
  shell.userOrg.textContent = me.org ? me.org.name : "";
  shell.userRole.textContent = roleLabel(me.role);
  shell.userRole.dataset.role = me.role;
  shell.nav.replaceChildren(
    ...NAV.filter((item) => !item.allowed || item.allowed(me)).map((item) =>
      h(
        "li",
        {},
        h("a", { href: item.href, "aria-current": item.href === activeNav ? "page" : false }, item.label),
      ),
    ),
  );
  return clear(shell.page);
}

async function signOutClicked() {
  if (!(await mayLeave())) return;
  try {
    await api("/auth/logout", { method: "POST" });
  } catch {
    // Signing out must work even when the server cannot be reached: the token goes either way.
  }
  clearToken();
  me = null;
  await navigate("/signin", { replace: true, force: true, message: "You have signed out." });
}

async function signOutEverywhereClicked(errorSlot) {
  errorSlot.replaceChildren();
  const sure = await confirmDialog({
    title: "Sign out everywhere?",
    message:
      "Every browser signed in as you, this one included, will have to sign in again. API keys keep working; revoke them one by one on API Keys.",
    confirmLabel: "Sign out everywhere",
    danger: true,
  });
  if (!sure || !(await mayLeave())) return;
  try {
    await api("/auth/logout-all", { method: "POST" });
  } catch (err) {
    // Not signed out anywhere: say so rather than pretend (a 401 has already ended this session).
    errorSlot.replaceChildren(errorMessage(err));
    return;
  }
  clearToken();
  me = null;
  await navigate("/signin", {
    replace: true,
    force: true,
    message: "You have signed out everywhere: every browser signed in as you must sign in again.",
  });
}

async function loadMe() {
  me = await api("/auth/me");
  return me;
}

async function renderPrivate(route, params, { focus }) {
  const id = renderCount;
  if (!shell) clear(root).append(h("main", { class: "boot", id: "main" }, loading()));
  try {
    await loadMe();
  } catch (err) {
    if (id !== renderCount || sessionEnding) return;
    const retry = button("Try again", { kind: "primary", on: { click: () => route_() } });
    const target = shell ? clear(shell.page) : clear(root.querySelector("main"));
    target.append(h("div", { class: "boot-error" }, errorMessage(err), retry));
    return;
  }
  if (id !== renderCount) return;
  if (me.twoFactorRequired && !me.twoFactor && me.authMethod === "jwt" && (!route || route.path !== "/account")) {
    // The org requires two-factor sign-in and the API answers nothing else until it is on: set it up first.
    history.replaceState(null, "", "/account");
    route = match(ROUTES, "/account").route;
    params = {};
    document.title = `${route.title} · Provenant`;
  }
  const container = updateShell(route ? route.nav : null);
  if (!route) {
    mount(container, pageHeader("Page not found"), emptyState("There is no page at this address.", h("a", { href: HOME }, "Go to Agents")));
    document.title = "Not found · Provenant";
  } else if (route.allowed && !route.allowed(me)) {
    mount(container, pageHeader(route.title), emptyState(`Your role (${roleLabel(me.role)}) cannot open the ${route.title}.`));
  } else {
    await showPage(container, route, params, {});
  }
  if (focus && id === renderCount) focusHeading(container);
}

function route_() {
  return route({ focus: false });
}

async function route({ focus = false } = {}) {
  renderCount += 1;
  sessionEnding = false;
  currentPath = location.pathname + location.search;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const publicMatch = match(PUBLIC_ROUTES, path);
  if (publicMatch) {
    document.title = `${publicMatch.route.title} · Provenant`;
    if (getToken() && publicMatch.route.path !== "/accept-invitation" && !publicMatch.route.signedIn) {
      // Already signed in: Sign in and Register have nothing to do.
      history.replaceState(null, "", HOME);
      return route({ focus });
    }
    return renderPublic(publicMatch.route, publicMatch.params, { focus });
  }
  if (!getToken()) {
    const next = path === "/" ? "" : `?next=${encodeURIComponent(path + location.search)}`;
    history.replaceState(null, "", `/signin${next}`);
    return route({ focus });
  }
  if (path === "/") {
    history.replaceState(null, "", HOME);
    return route({ focus });
  }
  const found = match(ROUTES, path);
  if (found) document.title = `${found.route.title} · Provenant`;
  return renderPrivate(found && found.route, found ? found.params : {}, { focus });
}

onSessionEnded((message) => {
  if (sessionEnding) return;
  sessionEnding = true;
  me = null;
  shell = null;
  leaveGuard = null;
  const here = location.pathname + location.search;
  const next = here.startsWith("/signin") ? "" : `?next=${encodeURIComponent(here)}`;
  navigate(`/signin${next}`, { replace: true, force: true, message });
});

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || link.target || link.hasAttribute("download")) return;
  const href = link.getAttribute("href");
  if (href.startsWith("#")) return;
  const target = new URL(link.href);
  if (target.origin !== location.origin || target.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(target.pathname + target.search + target.hash);
});

window.addEventListener("popstate", async () => {
  const to = location.pathname + location.search;
  const question = leaveGuard && leaveGuard();
  if (question) {
    // The address has already changed: put it back unless the user agrees to leave.
    history.pushState(null, "", currentPath);
    if (!(await confirmDialog({ confirmLabel: "Leave", danger: true, ...question }))) return;
    history.replaceState(null, "", to);
  }
  leaveGuard = null;
  route({ focus: true });
});

window.addEventListener("beforeunload", (event) => {
  if (leaveGuard && leaveGuard()) {
    event.preventDefault();
    event.returnValue = "";
  }
});

route();
