// Register: a new organization and its OWNER (Name, Email, Password, Organization, and the slug derived
// from the organization's name until the user edits it).

import { api } from "../api.js";
import { button, errorSlot, field, h, mount, slugInput } from "../dom.js";

const LABELS = { name: "Name", email: "Email", password: "Password", orgName: "Organization", orgSlug: "Slug" };

export async function render(container, ctx) {
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 200 });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 8,
    maxlength: 1024,
  });
  const orgName = h("input", { type: "text", name: "orgName", autocomplete: "organization", required: true, maxlength: 200 });
  const orgSlug = slugInput(orgName, { name: "orgSlug" });

  const submit = button("Register", { type: "submit", kind: "primary" });
  const error = errorSlot(LABELS);

  async function register(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const result = await api("/auth/register", {
        method: "POST",
        auth: false,
        body: {
          name: name.value.trim(),
          email: email.value.trim(),
          password: password.value,
          orgName: orgName.value.trim(),
          orgSlug: orgSlug.value.trim(),
        },
      });
      // A new organization's first need is a key for its SDK.
      await ctx.signIn(result.token, "/keys");
    } catch (err) {
      error.show(err);
      submit.disabled = false;
    }
  }

  mount(container,
    h(
      "div",
      {},
      h("h1", {}, "Register"),
      h("p", { class: "lede" }, "Create your organization. You will be its owner."),
    ),
    h(
      "form",
      { class: "form", on: { submit: register } },
      field("Name", name),
      field("Email", email),
      field("Password", password, { hint: "At least 8 characters." }),
      field("Organization", orgName),
      field("Slug", orgSlug, { hint: "Lowercase letters, digits and hyphens; derived from the organization's name." }),
      error.node,
      h("div", { class: "form-actions" }, submit),
    ),
    h("p", { class: "auth-footer" }, "Already registered? ", h("a", { href: "/signin" }, "Sign in")),
  );
  name.focus();
}
