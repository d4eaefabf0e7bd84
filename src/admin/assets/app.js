// hookgate inspector: new deliveries appear at the top of the list as they arrive
// (server-sent events; each row is rendered and escaped by the server), and the
// filters apply as soon as they change. Nothing else.
(() => {
  "use strict";
  document.querySelectorAll("#filters select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  const rows = document.getElementById("deliveries");
  if (!rows) return;
  const live = document.getElementById("live");
  const feed = new EventSource("/events" + location.search);
  feed.onopen = () => live && live.classList.add("on");
  feed.onerror = () => live && live.classList.remove("on");
  feed.addEventListener("delivery", (e) => {
    const d = JSON.parse(e.data);
    if (rows.querySelector(`tr[data-seq="${Number(d.seq)}"]`)) return;
    rows.insertAdjacentHTML("afterbegin", d.row);
    const fresh = rows.firstElementChild;
    if (fresh) fresh.classList.add("fresh");
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    while (rows.rows.length > 500) rows.deleteRow(-1);
  });
})();
