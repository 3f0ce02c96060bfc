// sessions_ui: the little the pages need beyond htmx. Keyboard: "/" search, j/k move, Enter open, o expand
// (on the detail page: j/k between the runs, o opens one).
// The Content-Security-Policy forbids inline scripts and eval (so hx-on attributes and hx-trigger
// filters too): behaviour that markup asks for with data-* attributes lives here.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  const rows = () => Array.from(document.querySelectorAll("#results tbody.session-row"));
  const selected = () => document.querySelector("#results tbody.session-row.selected");

  function select(row) {
    const current = selected();
    if (current) current.classList.remove("selected");
    if (!row) return;
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(selected());
    const next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    select(all[next]);
  }

  // The detail page's runs: j/k move the focus between their lines (a focused line shows its ring), o opens one.
  const RUN_LINE = "ol.runs > li > details.run > summary";

  function moveRun(step) {
    const all = Array.from(document.querySelectorAll(RUN_LINE));
    if (!all.length) return;
    const index = all.indexOf(document.activeElement);
    const next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }

  function toggle(button) {
    const previewRow = button.closest("tbody").querySelector(".preview-row");
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    previewRow.hidden = !open;
  }

  function typing(target) {
    return target.closest("input, select, textarea, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const search = document.getElementById("filter-q");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "j" || event.key === "k") {
      const step = event.key === "j" ? 1 : -1;
      if (rows().length) move(step);
      else moveRun(step);
    } else if (event.key === "Enter" && selected() && !event.target.closest("a, button")) {
      window.location.assign(selected().dataset.href);
    } else if (event.key === "o" && selected()) {
      selected().querySelector("[data-expand]").click();
    } else if (event.key === "o" && event.target.matches(RUN_LINE)) {
      event.target.click();
    }
  });

  document.addEventListener("click", (event) => {
    // data-dismiss="<selector>": a Cancel button closes the dialog, or removes the element, that it is in.
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      const closing = dismiss.closest(dismiss.dataset.dismiss);
      if (closing && closing.tagName === "DIALOG") closing.close();
      else if (closing) closing.remove();
      return;
    }
    const expand = event.target.closest("[data-expand]");
    if (expand) {
      toggle(expand);
      select(expand.closest("tbody"));
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.dataset.copy).then(() => {
        copy.classList.add("copied");
        setTimeout(() => copy.classList.remove("copied"), 1200);
      });
    }
  });

  // The header checkbox of the list ticks or clears every row of the page.
  document.addEventListener("change", (event) => {
    if (!event.target.matches("[data-select-all]")) return;
    for (const box of document.querySelectorAll("#results input[name=session_ids]")) box.checked = event.target.checked;
  });

  // Live refresh skips a beat while the tab is hidden or the user is busy with the rows (an expanded
  // row, ticked checkboxes), so it never closes what you read nor drops a selection.
  window.liveRefreshAllowed = () =>
    !document.hidden &&
    !document.querySelector('#results [aria-expanded="true"], #results input[name=session_ids]:checked');

  document.addEventListener("htmx:confirm", (event) => {
    // A beat of the live refresh (hx-trigger="every 10s" data-live-refresh) that is not allowed is skipped.
    if (event.detail.elt.hasAttribute("data-live-refresh") && !window.liveRefreshAllowed()) event.preventDefault();
  });

  // The search box asks as you type (its own trigger, after a pause): its change event, on leaving the
  // box, must not reach the filter form's change trigger, which would ask again and drop a pending search.
  document.addEventListener(
    "change",
    (event) => {
      if (event.target.name === "q" && event.target.form && event.target.form.id === "filters") event.stopPropagation();
    },
    true,
  );

  // data-swap-errors="400 409" on the requesting element or an ancestor: answers with those statuses
  // carry a form with its messages, so they are swapped in like a 200.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const holder = event.target.closest("[data-swap-errors]");
    if (holder && holder.dataset.swapErrors.split(" ").includes(String(event.detail.xhr.status))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A fragment request that fails shows so where its answer would have gone, instead of leaving stale
  // content (old rows under a "Live" badge still ticking: the live refresh is inside what is replaced,
  // so it stops too). The dashboard's fault fragment (sessions_ui/faults.py) is shown as it is; any
  // other failure gets a message of its own. Targets marked data-fail-quietly (suggestions) stay as they are.
  const FAILURES = {
    403: "You may not do this (any more): your permissions changed.",
    404: "Not found: it was deleted meanwhile, or its address changed.",
  };

  function failureCard(text) {
    const card = document.createElement("div");
    card.className = "fault card";
    card.setAttribute("role", "alert");
    const message = document.createElement("p");
    message.textContent = text;
    const again = document.createElement("a");
    again.className = "button";
    again.textContent = "Try again";
    card.append(message, again);
    return card;
  }

  function showFailure(target, card) {
    if (target && target.closest("[data-fail-quietly]")) return;
    if (!target || target === document.body) target = document.querySelector("main.page");
    const again = card.querySelector("a.button");
    if (again) again.href = window.location.href; // the page, not the fragment's URL
    target.classList.remove("htmx-request");
    target.replaceChildren(card);
  }

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    let card = null;
    if (xhr.getResponseHeader("X-Dashboard-Fault")) {
      card = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector(".fault");
    }
    const text = FAILURES[xhr.status] || `The server failed to answer (${xhr.status} ${xhr.statusText})`;
    showFailure(event.detail.target, card || failureCard(text));
  });
  for (const name of ["htmx:sendError", "htmx:timeout"]) {
    document.addEventListener(name, (event) => {
      showFailure(event.detail.target, failureCard("The dashboard did not answer: the server or the network is down."));
    });
  }

  // A delete confirmation arrives as a <dialog>: shown as a modal, and gone from the page once closed.
  document.addEventListener("htmx:load", (event) => {
    const root = event.target;
    const dialogs = root.matches("dialog.confirm-dialog") ? [root] : root.querySelectorAll("dialog.confirm-dialog");
    for (const dialog of dialogs) {
      if (dialog.open) continue;
      dialog.addEventListener("close", () => dialog.remove(), { once: true });
      dialog.showModal();
    }
  });

  // Filter comboboxes (input[data-combobox]): the choices of the input's datalist (names, ids, session
  // counts), filtered by what is typed, in a listbox of our own (a native datalist cannot show a name
  // and send an id, nor be tested). Without JavaScript the datalist itself suggests. Choosing an option
  // puts its id in the input; free text is sent as typed (the server matches names and ids).
  const COMBO_MAX = 60;
  let comboCount = 0;

  function comboSetup(input) {
    if (input.dataset.comboReady) return;
    input.dataset.comboReady = "1";
    const listId = input.getAttribute("list");
    input.removeAttribute("list");
    const listbox = document.createElement("ul");
    listbox.id = `combo-list-${++comboCount}`;
    listbox.className = "combo-list";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", input.getAttribute("aria-label") || input.name);
    listbox.hidden = true;
    input.after(listbox);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    const options = () => Array.from(listbox.querySelectorAll("[role=option]"));
    const active = () => listbox.querySelector("[aria-selected=true]");

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function open() {
      const datalist = document.getElementById(listId);
      const typed = input.value.trim().toLowerCase();
      listbox.replaceChildren();
      const choices = datalist ? Array.from(datalist.options) : [];
      for (const choice of choices) {
        const label = choice.dataset.label || choice.value;
        if (typed && !label.toLowerCase().includes(typed)) continue;
        if (listbox.childElementCount >= COMBO_MAX) break;
        const item = document.createElement("li");
        item.id = `${listbox.id}-${listbox.childElementCount}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = choice.value;
        const text = document.createElement("span");
        text.textContent = label;
        const count = document.createElement("span");
        count.className = "muted";
        count.textContent = choice.label.split(" · ").pop();
        item.append(text, count);
        listbox.append(item);
      }
      listbox.hidden = !listbox.childElementCount;
      input.setAttribute("aria-expanded", String(!listbox.hidden));
      // Near the window's right edge, the list opens leftwards from the field's right end.
      listbox.classList.remove("combo-end");
      if (!listbox.hidden && listbox.getBoundingClientRect().right > document.documentElement.clientWidth) {
        listbox.classList.add("combo-end");
      }
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(item) {
      const current = active();
      if (current) current.setAttribute("aria-selected", "false");
      if (!item) return input.removeAttribute("aria-activedescendant");
      item.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    }

    function choose(item) {
      input.value = item.dataset.value;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", open);
    input.addEventListener("focus", open);
    input.addEventListener("blur", close);
    // mousedown, not click: a click would first blur the input, which closes the list.
    listbox.addEventListener("mousedown", (event) => {
      const item = event.target.closest("[role=option]");
      if (!item) return;
      event.preventDefault();
      choose(item);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (listbox.hidden) open();
        const items = options();
        if (!items.length) return;
        const index = items.indexOf(active());
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight(items[index === -1 ? (step > 0 ? 0 : items.length - 1) : (index + step + items.length) % items.length]);
      } else if (event.key === "Enter" && !listbox.hidden && active()) {
        event.preventDefault();
        choose(active());
      } else if (event.key === "Escape" && !listbox.hidden) {
        event.stopPropagation(); // the first Escape closes the list; the next one leaves the field
        close();
      }
    });
  }

  function comboSetupAll(root) {
    for (const input of root.querySelectorAll("input[data-combobox][list]")) comboSetup(input);
  }
  comboSetupAll(document);

  // A date typed in part (a day without a year, or a year still being typed) is no date: say so rather
  // than send nothing, and keep the list as it is until the date is whole.
  function dateProblem(field) {
    if (field.validity.badInput) return `${field.getAttribute("aria-label")}: the date is incomplete; type the day, month and year, or pick one.`;
    if (field.value && Number(field.value.slice(0, 4)) < 1970) return `${field.getAttribute("aria-label")}: the year is incomplete.`;
    return "";
  }

  function checkDates(form) {
    const message = form.querySelector("#filters-message");
    if (!message) return false;
    const problems = Array.from(form.querySelectorAll("input[type=date]")).map(dateProblem).filter(Boolean);
    message.textContent = problems.join(" ");
    message.hidden = !problems.length;
    return problems.length > 0;
  }

  for (const name of ["change", "focusout", "input"]) {
    document.addEventListener(
      name,
      (event) => {
        const field = event.target;
        if (!(field instanceof HTMLInputElement) || field.type !== "date" || !field.form || field.form.id !== "filters") return;
        if (checkDates(field.form) && name === "change" && dateProblem(field)) event.stopPropagation();
      },
      true,
    );
  }

  // Empty fields stay out of the request, so the pushed URL holds only the active filters.
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.id !== "filters") return;
    for (const [name, value] of Array.from(event.detail.formData.entries())) {
      if (value === "") event.detail.formData.delete(name);
    }
  });

  // The filter form lives outside the swapped results: after a chip, sort or row link (or the back
  // button) changed the URL, show the URL's filters in it again.
  function syncFilters() {
    const form = document.getElementById("filters");
    if (!form) return;
    const params = new URLSearchParams(window.location.search);
    for (const field of form.elements) {
      if (!field.name) continue;
      if (field.type === "checkbox") {
        field.checked = params.get(field.name) === field.value;
      } else if (field.tagName === "SELECT") {
        const value = params.get(field.name);
        field.value = value !== null && [...field.options].some((option) => option.value === value)
          ? value
          : field.options[0].value;
      } else if (field !== document.activeElement) {
        field.value = params.get(field.name) || "";
      }
    }
  }
  document.addEventListener("htmx:pushedIntoHistory", syncFilters);
  document.addEventListener("htmx:historyRestore", syncFilters);
  window.addEventListener("popstate", () => setTimeout(syncFilters));
})();
