// A certified OpenID Provider (panva's oidc-provider) on loopback, for the single sign-on tests
// (tests/sso/openid_provider.py starts it: one process per test module).
//
// Environment: PORT; CLIENT_ID, CLIENT_SECRET and REDIRECT_URIS (comma-separated) for the one client, the
// server under test. The issuer is http://127.0.0.1:PORT (the server lets it through
// PROVENANT_ALLOWED_ISSUER_HOSTS=127.0.0.1).
//
// The protocol (discovery, JWKS, authorize with PKCE, token, userinfo) is oidc-provider's own. What this file
// adds is what a company's identity provider would have and a test needs:
//   /interaction/:uid  the provider's sign-in page: an Email field (the login_hint filled in) and "Sign in"; any
//                      email signs in (the person has just proved who they are), and consent is given at once
//                      (an app the company's administrator approved).
//   accounts           made from the email signed in with: an opaque `sub`, `email`, `name`, and
//                      `email_verified: true` unless the local part starts with "unverified" (then false) or
//                      "unstated" (then the claim is left out).
//   bad ID tokens      the token endpoint's ID token is altered, and signed again with the provider's own key,
//                      when the local part starts with "wrong-nonce" or "wrong-aud"; with "forged" it is signed
//                      by a key the provider does not publish (under the published kid).
//   POST /_test/rotate the provider signs with a new key under a new kid from now on; JWKS publishes the new
//                      key first and the old one after it, as providers do during a rotation. Answers {kid}.
//   GET /_test/requests how many times each "METHOD /path" was asked for (discovery and JWKS fetches).
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";

import { CompactSign, exportJWK, generateKeyPair, importJWK } from "jose";
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const client = {
  client_id: process.env.CLIENT_ID,
  client_secret: process.env.CLIENT_SECRET,
  redirect_uris: process.env.REDIRECT_URIS.split(","),
  grant_types: ["authorization_code"],
  response_types: ["code"],
};
const cookieKeys = [randomBytes(32).toString("hex")];

const emails = new Map(); // accountId (the opaque sub) → the email signed in with
const requests = new Map();
let signingKeys = [await signingKey()];
let provider = build(signingKeys);

async function signingKey() {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
}

function accountIdOf(email) {
  return createHash("sha256").update(email).digest("hex").slice(0, 24);
}

function localPart(email) {
  return email.split("@")[0];
}

function build(keys) {
  const built = new Provider(issuer, {
    clients: [client],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Scope claims in the ID token itself, as Okta, Entra ID, Google and Keycloak put them there.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    // A client that does not send an S256 code challenge is refused.
    pkce: { required: () => true },
    async findAccount(ctx, accountId) {
      const email = emails.get(accountId);
      if (!email) return undefined;
      return {
        accountId,
        async claims() {
          const claims = { sub: accountId, email, name: nameOf(email) };
          if (!localPart(email).startsWith("unstated")) {
            claims.email_verified = !localPart(email).startsWith("unverified");
          }
          return claims;
        },
      };
    },
  });
  built.use(alterIdToken);
  return built;
}

function nameOf(email) {
  return localPart(email)
    .split(/[._-]/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(" ");
}

// ---- ID tokens a test wants wrong ---------------------------------------------------------------------

async function alterIdToken(ctx, next) {
  await next();
  if (ctx.path !== "/token" || !ctx.body || typeof ctx.body.id_token !== "string") return;
  const [header, payload] = ctx.body.id_token
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
  const local = localPart(payload.email || "");
  let key = signingKeys[0];
  if (local.startsWith("wrong-nonce")) payload.nonce = randomBytes(16).toString("base64url");
  else if (local.startsWith("wrong-aud")) payload.aud = "another-client";
  else if (local.startsWith("forged")) key = { ...(await signingKey()), kid: signingKeys[0].kid };
  else return;
  ctx.body = { ...ctx.body, id_token: await sign(header, payload, key) };
}

async function sign(header, payload, jwk) {
  const privateKey = await importJWK(jwk, "RS256");
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ ...header, kid: jwk.kid })
    .sign(privateKey);
}

// ---- the sign-in page ----------------------------------------------------------------------------------

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signInPage(uid, clientId, loginHint) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test Identity Provider</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:22rem}label,input,button{display:block;width:100%;margin:.4rem 0}input,button{padding:.5rem;font:inherit}</style>
</head><body>
<h1>Test Identity Provider</h1>
<p>Sign in to continue to <strong>${escapeHtml(clientId)}</strong>.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(loginHint || "")}" required autofocus>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  let accountId = session?.accountId;
  if (prompt.name === "login") {
    if (req.method !== "POST") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(signInPage(uid, params.client_id, params.login_hint));
      return;
    }
    const email = ((await readForm(req)).get("email") || "").trim().toLowerCase();
    accountId = accountIdOf(email);
    emails.set(accountId, email);
  }
  // Consent at once, for the scopes asked for: the app was approved by the company's administrator.
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, {
    mergeWithLastSubmission: false,
  });
}

// ---- the server ----------------------------------------------------------------------------------------

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  const counted = `${req.method} ${pathname}`;
  requests.set(counted, (requests.get(counted) || 0) + 1);
  try {
    if (pathname.startsWith("/interaction/")) {
      await interaction(req, res);
    } else if (pathname === "/_test/rotate" && req.method === "POST") {
      signingKeys = [await signingKey(), ...signingKeys];
      provider = build(signingKeys); // sessions and grants live on in the memory adapter the two share
      json(res, 200, { kid: signingKeys[0].kid });
    } else if (pathname === "/_test/requests") {
      json(res, 200, Object.fromEntries(requests));
    } else {
      provider.callback()(req, res);
    }
  } catch (error) {
    json(res, 400, { error: String(error) });
  }
});

server.listen(port, "127.0.0.1", () => console.log(`listening on ${issuer}`));
