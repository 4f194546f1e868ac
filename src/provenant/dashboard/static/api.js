// Talking to the Provenant API.
//
//   api(path, {method, body, query, auth} = {}) → the parsed JSON body (null for 204).
//       path is under /api ("/org/keys" or "/api/org/keys" both work); query: {name: value} (null/""
//       skipped); body is sent as JSON. Throws ApiError {status, code, message, details} for any non-2xx
//       answer, or the browser's TypeError when the server cannot be reached.
//       Sends "Authorization: Bearer <jwt>" from localStorage unless auth is false (Sign in, Register,
//       the invitation pages). Any 401 to an authenticated call ends the session: the token is removed
//       and the app returns to Sign in saying the session ended.
//   apiAll(path, {query}) → every item of a list, following Link: <…>; rel="next" from page to page.
//   fetchPage(pathOrUrl, query) → {items, next}: one page of a list and the URL of the next one (null on
//       the last page), for lists shown page by page with Load more. pathOrUrl may be a next URL;
//       one on another origin is never fetched (an empty last page).
//   nextLink(response)          the URL of the next page from a response's Link header, or null.
//   apiFetch(path, opts) → the raw Response (for downloads such as the NDJSON audit export), same auth.
//   responseError(response) → the ApiError that api() throws for a Response that is not ok (await it).
//   getToken() / setToken(jwt) / clearToken()   the JWT in localStorage, as the product's document says.
//   onSessionEnded(handler)     app.js registers what happens after a 401 (handler(message)).

const TOKEN_KEY = "provenant.token";

export const SESSION_ENDED = "Your session has ended. Sign in again to continue.";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

let sessionEndedHandler = () => {};

export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

function url(path, query) {
  const target = new URL(path.startsWith("/api/") ? path : `/api${path}`, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, String(value));
  }
  return target;
}

export async function apiFetch(path, { method = "GET", body, query, auth = true, headers = {} } = {}) {
  const token = auth ? getToken() : null;
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "omit" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, query), init);
  if (response.status === 401 && token) {
    clearToken();
    sessionEndedHandler(SESSION_ENDED);
  }
  return response;
}

export async function responseError(response) {
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): described by its status below.
  }
  const message =
    payload && typeof payload.error === "string" ? payload.error : `The server answered ${response.status}.`;
  const code = payload && typeof payload.code === "string" ? payload.code : "http_error";
  return new ApiError(response.status, code, message, payload && payload.details);
}

export async function api(path, options = {}) {
  const response = await apiFetch(path, options);
  if (!response.ok) throw await responseError(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export function nextLink(response) {
  const header = response.headers.get("Link") || "";
  for (const part of header.split(",")) {
    const found = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (found) return found[1];
  }
  return null;
}

export async function fetchPage(pathOrUrl, query) {
  let path = pathOrUrl;
  if (/^https?:/.test(pathOrUrl)) {
    const target = new URL(pathOrUrl);
    if (target.origin !== window.location.origin) return { items: [], next: null };
    path = target.pathname + target.search;
    query = undefined;
  }
  const response = await apiFetch(path, { query });
  if (!response.ok) throw await responseError(response);
  return { items: await response.json(), next: nextLink(response) };
}

export async function apiAll(path, { query, maxPages = 50 } = {}) {
  const items = [];
  let next = url(path, query).href;
  for (let page = 0; next && page < maxPages; page += 1) {
    const found = await fetchPage(new URL(next, window.location.origin).href);
    items.push(...found.items);
    next = found.next;
  }
  return items;
}
