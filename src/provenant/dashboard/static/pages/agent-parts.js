// What the Agents list and an agent's page share: who created an agent, and Archive.

import { api, apiAll } from "../api.js";
import { confirmThen, h } from "../dom.js";

/** id → member of the org; empty when they cannot be read (names are a nicety: the page reads without them). */
export async function loadMembers() {
  try {
    return new Map((await apiAll("/org/members")).map((member) => [member.id, member]));
  } catch {
    return new Map();
  }
}

export function creatorName(members, agent, me) {
  if (agent.createdById === me.id) return "you";
  const member = members.get(agent.createdById);
  return member ? member.name : "a former member";
}

/** Asks, then archives; true once archived. A failure goes to onError. */
export function archive(agent, onError) {
  return confirmThen(
    {
      title: `Archive “${agent.name}”?`,
      message: [
        h("p", {}, "It leaves the Active list; its sessions stay readable and it is listed under Archived."),
        h("p", {}, "The dashboard has no way to bring it back."),
      ],
      confirmLabel: "Archive agent",
      danger: true,
    },
    () => api(`/agents/${encodeURIComponent(agent.id)}`, { method: "DELETE" }),
    { show: onError },
  );
}
