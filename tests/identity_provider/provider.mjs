// An OpenID Provider for the tests, built on panva/oidc-provider (a certified implementation):
// everything the protocol needs (discovery, JWKS, authorization code with PKCE, private_key_jwt
// client authentication, signed ID tokens, userinfo, the claims parameter, acr) is that library's.
// This file only configures it like a SPID/CIE gateway and gives it a login page, as an identity
// provider's operator would.
//
// Usage: node provider.mjs CONFIG.json — the configuration names the port, the signing keys, the
// clients and the test identities. Once listening, the process prints "READY <issuer>" on stdout.

import http from "node:http";
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = config.issuer;
const FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number";
const accounts = new Map(config.accounts.map((a) => [a.username, a]));

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: config.signing_keys },
  acrValues: [
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
  ],
  claims: {
    openid: ["sub"],
    profile: ["given_name", "family_name"],
    email: ["email", "email_verified"],
    [FISCAL_NUMBER]: null,
    given_name: null,
    family_name: null,
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
  },
  pkce: { required: () => true },
  ttl: {
    IdToken: config.id_token_ttl ?? 600,
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  cookies: { keys: ["test-provider-cookie-key"] },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...account.claims };
      },
    };
  },
});
provider.proxy = false;

function page(res, status, html) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="it"><head><title>Identity provider</title></head><body>${html}</body></html>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

async function grantConsent(details) {
  const { prompt, params, session } = details;
  const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  return { consent: { grantId: await grant.save() } };
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const uid = details.uid;
  if (req.method === "GET" && details.prompt.name === "login") {
    page(
      res,
      200,
      `<h1>Accedi al gestore di identità</h1>
       <form method="post" action="/interaction/${uid}/login">
         <label for="username">Nome utente</label> <input id="username" name="username">
         <label for="password">Password</label> <input id="password" name="password" type="password">
         <button type="submit">Entra</button>
       </form>`,
    );
    return;
  }
  if (req.method === "POST" && req.url.endsWith("/login")) {
    const form = await readForm(req);
    const account = accounts.get(form.get("username") ?? "");
    if (!account || account.password !== form.get("password")) {
      page(res, 401, "<p>Credenziali non valide.</p>");
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.username, acr: account.acr } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (details.prompt.name === "consent") {
    await provider.interactionFinished(req, res, await grantConsent(details), {
      mergeWithLastSubmission: true,
    });
    return;
  }
  page(res, 400, `<p>Unexpected prompt ${details.prompt.name}</p>`);
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    interaction(req, res).catch((err) => {
      page(res, 500, `<p>${String(err)}</p>`);
    });
    return;
  }
  handle(req, res);
});
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`READY ${issuer}\n`);
});
