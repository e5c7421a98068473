// Consumer alerts (staff pages): the SMS length as the supervisor types, and the live sending progress
// on an alert's page, polled from its JSON endpoint (CSP allows only 'self' scripts, so nothing inline).
document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll("textarea[data-sms-count]")) {
    const box = document.getElementById(field.dataset.smsCount);
    const out = box && box.querySelector("output");
    if (!out) continue;
    const extra = Number(field.dataset.smsExtra), limit = Number(field.dataset.smsLimit);
    const update = () => {
      const n = field.value.trim().length + extra;
      out.textContent = String(n);
      box.classList.toggle("over", n > limit);
    };
    field.addEventListener("input", update);
    update();
  }

  const panel = document.querySelector("[data-progress-url]");
  if (!panel || !panel.dataset.polling) return;
  const note = panel.querySelector("[data-field=note]");
  let failures = 0;
  const poll = async () => {
    try {
      const response = await fetch(panel.dataset.progressUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      failures = 0;
      for (const [key, value] of Object.entries(data.counts)) {
        const cell = panel.querySelector(`[data-count="${key}"]`);
        if (cell) cell.textContent = String(value);
      }
      const total = panel.querySelector('[data-count="recipients"]');
      if (total) total.textContent = String(data.recipients);
      if (note) note.textContent = data.queuing ? note.dataset.queuing : note.dataset.done;
      // Quickly while messages are queuing or waiting to go; slowly while receipts may still come in.
      if (data.queuing || data.counts.queued > 0) setTimeout(poll, 2000);
      else if (data.status === "published") setTimeout(poll, 15000);
    } catch (error) {
      failures += 1;
      if (failures < 10) setTimeout(poll, 5000);
    }
  };
  setTimeout(poll, 1000);
});
