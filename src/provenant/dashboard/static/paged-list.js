// A list read page by page and filtered, its filters kept in the address: Sessions and the Audit Log.
// The page builds its filter controls and calls apply({name: value}) when one changes; the list keeps the
// filters in the address, loads the first page (only the newest request's answer is shown), offers Load
// more while the API has a next page, and says when the filters match nothing.
//
//   pagedList(ctx, options) → {state, clearButton, parts, errors, apply(changes), clearFilters(), load()}
//     state        {filters, loads}: the filters as the address has them ("" for none)
//     clearButton  "Clear filters", shown while a filter is set: the page puts it in its toolbar
//     parts        the error slot, the note (when options.note), the list and Load more, in that order
//   options:
//     path             the API's list ("/sessions")
//     filters          {name: value} the page read from the address
//     controls         {name: element}: the controls Clear filters empties
//     pageSize
//     query(filters)   the API's query for the filters (default: the filters as they are)
//     problem(filters) a sentence when the filters cannot be asked for (From after To), else null
//     view(items)      the node that shows the items
//     empty()          the node shown when there is nothing at all (no filter set)
//     emptyFiltered    "No sessions match these filters."
//     note(items, next) a line above the list ("42 entries."); leave out for none
//     before()         called as each load starts (the Audit Log clears its export status)
//     errorLabels, loadingText

import { fetchPage } from "./api.js";
import { loadMoreButton } from "./components.js";
import { button, emptyState, errorSlot, h, keepInAddress, loading } from "./dom.js";

const isFiltered = (list) => Object.values(list.state.filters).some(Boolean);
const isStale = (list, id) => id !== list.state.loads || !list.ctx.isCurrent();

function clearFilters(list) {
  for (const control of Object.values(list.options.controls)) control.value = "";
  apply(list, Object.fromEntries(Object.keys(list.state.filters).map((name) => [name, ""])));
}

function apply(list, changes) {
  const before = JSON.stringify(list.state.filters);
  Object.assign(list.state.filters, changes);
  if (JSON.stringify(list.state.filters) === before) return;
  keepInAddress(list.state.filters);
  list.clearButton.hidden = !isFiltered(list);
  load(list);
}

function showNothing(list) {
  list.listSlot.replaceChildren();
  list.moreSlot.replaceChildren();
  if (list.note) list.note.textContent = "";
}

function showEmpty(list) {
  showNothing(list);
  const again = button("Clear filters", { on: { click: () => clearFilters(list) } });
  list.listSlot.replaceChildren(
    isFiltered(list) ? emptyState(list.options.emptyFiltered, again) : list.options.empty(),
  );
}

function show(list, items, next) {
  if (!items.length) {
    showEmpty(list);
    return;
  }
  if (list.note) list.note.textContent = list.options.note(items, next);
  list.listSlot.replaceChildren(list.options.view(items));
  const id = list.state.loads;
  const onPage = (page) => {
    if (!isStale(list, id)) show(list, [...items, ...page.items], page.next);
  };
  list.moreSlot.replaceChildren(...(next ? [loadMoreButton(next, { onPage, onError: list.errors.show })] : []));
}

async function load(list) {
  const { options, state } = list;
  state.loads += 1;
  const id = state.loads;
  list.errors.clear();
  options.before?.();
  const problem = options.problem?.(state.filters);
  if (problem) {
    showNothing(list);
    list.errors.show({ status: 0, message: problem });
    return;
  }
  list.listSlot.setAttribute("aria-busy", "true");
  try {
    const query = options.query ? options.query(state.filters) : state.filters;
    const page = await fetchPage(options.path, { ...query, limit: options.pageSize });
    if (!isStale(list, id)) show(list, page.items, page.next);
  } catch (err) {
    if (isStale(list, id)) return;
    showNothing(list);
    list.errors.show(err);
  } finally {
    if (id === state.loads) list.listSlot.removeAttribute("aria-busy");
  }
}

export function pagedList(ctx, options) {
  const list = {
    ctx,
    options,
    state: { filters: { ...options.filters }, loads: 0 },
    errors: errorSlot(options.errorLabels),
    note: options.note ? h("p", { class: "list-note", role: "status" }) : null,
    listSlot: h("div", { class: "slot" }, loading(options.loadingText)),
    moreSlot: h("div", { class: "slot load-more" }),
  };
  list.clearButton = button("Clear filters", { kind: "ghost", class: "button-small", on: { click: () => clearFilters(list) } });
  list.clearButton.hidden = !isFiltered(list);
  return {
    state: list.state,
    clearButton: list.clearButton,
    parts: [list.errors.node, list.note, list.listSlot, list.moreSlot],
    errors: list.errors,
    apply: (changes) => apply(list, changes),
    clearFilters: () => clearFilters(list),
    load: () => load(list),
  };
}
