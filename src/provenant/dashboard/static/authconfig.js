// What this server offers on its public pages: GET /api/auth/config ({signup, passwordReset, sso, github}),
// asked once per page load. Nothing is offered that the server would refuse; when the server cannot be
// reached the answer is "nothing extra" (the page still signs in).

import { api } from "./api.js";

let asked = null;

export function authConfig() {
  if (!asked) {
    asked = api("/auth/config", { auth: false }).catch(() => {
      asked = null; // asked again next time
      return { signup: "open", passwordReset: false, sso: false, github: false };
    });
  }
  return asked;
}
