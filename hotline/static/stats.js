// The dashboard refreshes itself while open: every 30 s it fetches its figures (same filters,
// `fragment=1`) and swaps them in; it pauses while the tab is hidden and catches up when shown.
// Without this script the page is complete, just not live. Same origin only: no external requests.
(() => {
  const PERIOD = 30000;
  const box = document.getElementById("stats-figures");
  if (!box || !window.fetch) return;
  let timer = null;
  let busy = false;

  function stamp(text) {
    const line = box.querySelector("#stats-updated");
    if (line) line.firstChild.nodeValue = text;
  }

  function focusKey(element) {
    if (element.id) return "#" + CSS.escape(element.id);
    if (element.matches("a[href]")) return `a[href="${CSS.escape(element.getAttribute("href"))}"]`;
    const details = element.closest("details[id]");
    return details ? `#${CSS.escape(details.id)} > summary` : null;
  }

  async function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(box.dataset.refresh, {credentials: "same-origin", cache: "no-store"});
      // A lapsed session answers with the log-in page: never swap that in.
      if (!response.ok || response.headers.get("X-Stats-Fragment") !== "1") throw new Error(String(response.status));
      const html = await response.text();
      const open = [...box.querySelectorAll("details[open][id]")].map(d => d.id);
      const focused = box.contains(document.activeElement) ? focusKey(document.activeElement) : null;
      box.innerHTML = html;
      for (const id of open) {
        const details = document.getElementById(id);
        if (details) details.open = true;
      }
      // A keyboard user keeps their place: the same link (or summary) gets the focus back.
      const again = focused && box.querySelector(focused);
      if (again) again.focus({preventScroll: true});
    } catch (error) {
      const line = box.querySelector("#stats-updated");
      if (line) stamp(box.dataset.failed.replace("{time}", line.dataset.updated || ""));
    } finally {
      busy = false;
    }
  }

  function start() {
    if (timer === null) timer = window.setInterval(refresh, PERIOD);
  }
  function stop() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  start();
})();
