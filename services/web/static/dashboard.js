// The dashboard's little script: requeue buttons (one, one reason, all: the last two ask
// first), and queue figures refreshed in place. The session id stays in its HttpOnly
// cookie; a request that changes something carries the page's CSRF token (the
// <meta name="csrf-token"> the server wrote) in X-CSRF-Token.
(function () {
  "use strict";

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";

  async function requeue(button) {
    const scope = button.dataset.scope;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const body = { scope: scope };
    if (scope === "reason") body.reason = button.dataset.reason;
    if (scope === "ids") body.ids = [Number(button.dataset.id)];
    button.disabled = true;
    try {
      const response = await fetch("/api/v1/dead/requeue", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      location.reload();
    } catch (error) {
      button.disabled = false;
      button.textContent = "✗ " + button.textContent.replace(/^✗ /, "");
    }
  }

  async function refreshQueues() {
    try {
      const response = await fetch("/api/v1/queues", { credentials: "same-origin" });
      if (!response.ok) return;
      for (const q of await response.json()) {
        const row = document.querySelector('tr[data-queue="' + CSS.escape(q.name) + '"]');
        if (!row) continue;
        for (const cell of row.querySelectorAll("[data-field]")) {
          const value = q[cell.dataset.field];
          if (cell.dataset.field === "oldest_waiting_s") {
            const unit = document.documentElement.lang === "en" ? " s" : " 秒";
            cell.textContent = value === null ? "–" : Math.round(value) + unit;
          } else {
            cell.textContent = value;
          }
        }
      }
    } catch (error) { /* the next refresh will try again */ }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.requeue");
    if (button) requeue(button);
  });
  if (document.getElementById("queues")) setInterval(refreshQueues, 15000);
})();
