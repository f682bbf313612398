// Keyboard shortcuts (j/k/a/r) and drag-to-cover on the review page.
(function () {
  document.addEventListener("keydown", e => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) { return; }
    const go = id => { const a = document.getElementById(id); if (a) { window.location = a.href; } };
    if (e.key === "j") { go("next"); }
    if (e.key === "k") { go("prev"); }
    if (e.key === "a") {
      const b = document.getElementById("approve");
      if (!b) { return; }
      const f = document.getElementById("approve-form");
      const chosen = Array.from(f.querySelectorAll("input[name=channel]:checked")).map(c => c.value);
      if (confirm("Approve and publish this " + (document.querySelector("ol.tracks") ? "video" : "photo") + " on " + (chosen.join(", ") || "no channel") + "?")) { b.click(); }
    }
    if (e.key === "r") { const r = document.getElementById("reject-reason"); if (r) { r.focus(); e.preventDefault(); } }
  });
  const svg = document.getElementById("overlay");
  const stage = document.getElementById("stage");
  if (!svg) { return; }
  const drag = document.getElementById("drag");
  const W = +stage.dataset.width, H = +stage.dataset.height;
  let start = null;
  function point(e) { const r = svg.getBoundingClientRect(); return [Math.round((e.clientX - r.left) * W / r.width), Math.round((e.clientY - r.top) * H / r.height)]; }
  svg.addEventListener("mousedown", e => { start = point(e); drag.removeAttribute("hidden"); e.preventDefault(); });
  svg.addEventListener("mousemove", e => {
    if (!start) { return; }
    const [x, y] = point(e);
    drag.setAttribute("x", Math.min(x, start[0])); drag.setAttribute("y", Math.min(y, start[1]));
    drag.setAttribute("width", Math.abs(x - start[0])); drag.setAttribute("height", Math.abs(y - start[1]));
  });
  svg.addEventListener("mouseup", e => {
    if (!start) { return; }
    const [x, y] = point(e); const s = start; start = null;
    if (Math.abs(x - s[0]) < 8 || Math.abs(y - s[1]) < 8) { drag.setAttribute("hidden", ""); return; }
    const f = document.getElementById("cover-form");
    const fill = () => { f.x0.value = Math.min(x, s[0]); f.y0.value = Math.min(y, s[1]); f.x1.value = Math.max(x, s[0]); f.y1.value = Math.max(y, s[1]); };
    if (f.start_s) {  // a video: the editor says for how long (or leaves both times empty for every frame)
      fill(); document.getElementById("cover-area").open = true; f.start_s.focus(); return;
    }
    if (!confirm("Cover this area in every published copy?")) { drag.setAttribute("hidden", ""); return; }
    fill();
    f.submit();
  });
})();
// The identify box asks the server for a few matching people as the editor types.
(function () {
  const list = document.getElementById("people");
  if (!list) { return; }
  let timer = null;
  document.querySelectorAll("form.identify input[name=external_id]").forEach(input => {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { return; }
      timer = setTimeout(async () => {
        const r = await fetch("/api/people/search?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}});
        if (!r.ok) { return; }
        list.replaceChildren(...(await r.json()).map(p => {
          const o = document.createElement("option");
          o.value = p.external_id; o.textContent = p.name + (p.year_group ? " · " + p.year_group : "");
          return o;
        }));
      }, 200);
    });
  });
})();
// A video's time-span cover: the From / To buttons take the covered preview's current time.
(function () {
  document.querySelectorAll("button[data-time-to]").forEach(b => {
    b.addEventListener("click", () => {
      const v = document.getElementById("preview-video");
      const field = document.getElementById(b.dataset.timeTo);
      if (!v || !field) { return; }
      const t = b.dataset.round === "up" ? Math.ceil(v.currentTime * 100) / 100 : Math.floor(v.currentTime * 100) / 100;
      field.value = t.toFixed(2);
      field.focus();
    });
  });
})();
// A video's covered preview is rendered by a worker: while the page says "Preparing", ask for
// the player's place every 2 s and swap it in when it is ready (or say why it failed).
(function () {
  const box = document.getElementById("preview-player");
  if (!box || !box.dataset.poll) { return; }
  const poll = async () => {
    let r;
    try { r = await fetch(box.dataset.poll, {headers: {"Accept": "text/html"}}); } catch (e) { setTimeout(poll, 5000); return; }
    if (!r.ok) { if (r.status < 500) { window.location.reload(); } else { setTimeout(poll, 5000); } return; }
    const t = document.createElement("template");
    t.innerHTML = (await r.text()).trim();
    const fresh = t.content.querySelector("#preview-player");
    if (!fresh) { window.location.reload(); return; }  // signed out meanwhile: the sign-in page
    if (fresh.dataset.poll) { setTimeout(poll, 2000); return; }
    delete box.dataset.poll;
    box.replaceChildren(...fresh.childNodes);
  };
  setTimeout(poll, 2000);
})();
