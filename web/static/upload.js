// Upload each file on its own request so every file gets a progress bar and a result.
(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const list = document.getElementById("progress");
  const overall = document.getElementById("overall");
  const overallBar = document.getElementById("overall-bar");
  const overallText = document.getElementById("overall-text");
  let picked = [];

  function addFiles(files) { picked = picked.concat(Array.from(files)); drop.querySelector("p").textContent = picked.length + " file(s) ready"; }
  const folder = document.getElementById("folder");
  input.addEventListener("change", () => { picked = []; addFiles(input.files); });
  folder.addEventListener("change", () => { picked = []; addFiles(Array.from(folder.files).filter(f => !f.name.startsWith("."))); });

  // A dropped folder arrives as a directory entry: walk it for its files.
  function walk(entry, out) {
    return new Promise(resolve => {
      if (entry.isFile) { entry.file(f => { if (!f.name.startsWith(".")) { out.push(f); } resolve(); }, () => resolve()); return; }
      const reader = entry.createReader(); const batch = [];
      const read = () => reader.readEntries(entries => {
        if (!entries.length) { Promise.all(batch.map(e => walk(e, out))).then(resolve); return; }
        batch.push(...entries); read();
      }, () => resolve());
      read();
    });
  }
  ["dragenter", "dragover"].forEach(t => drop.addEventListener(t, e => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach(t => drop.addEventListener(t, e => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", e => {
    const entries = Array.from(e.dataTransfer.items || []).map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (!entries.length) { addFiles(e.dataTransfer.files); return; }
    const out = []; Promise.all(entries.map(en => walk(en, out))).then(() => addFiles(out));
  });

  // "held (photo 3): no camera data. Next: ask the DPO ..." with the photo linking to My uploads.
  const NEXT = {held: "ask the DPO to release it from Held photos", duplicate: "nothing to do",
                accepted: "it is scanned within a minute, then an editor reviews it"};
  function show(cell, r) {
    cell.replaceChildren();
    const strong = document.createElement("strong"); strong.textContent = r.outcome; cell.append(strong);
    if (r.outcome === "duplicate" && r.by_someone_else) {  // a colleague's: not in My uploads
      const help = document.createElement("a"); help.href = "/help#stages"; help.textContent = "what the stages mean";
      cell.append(": already uploaded by a colleague as photo " + r.photo_id + ", now " + r.stage +
                  ". Next: " + NEXT.duplicate + " (", help, ").");
      return;
    }
    if (r.outcome === "duplicate" && r.photo_id) {  // said once: "duplicate: already uploaded as photo 3"
      const a = document.createElement("a"); a.href = "/uploads#photo-" + r.photo_id; a.textContent = "photo " + r.photo_id;
      cell.append(": already uploaded as ", a, ". Next: " + NEXT.duplicate + ".");
      return;
    }
    if (r.photo_id) {
      const a = document.createElement("a"); a.href = "/uploads#photo-" + r.photo_id; a.textContent = "photo " + r.photo_id;
      cell.append(" (", a, ")");
    }
    let reason = r.reason || "";
    if (reason.startsWith(r.outcome + ": ")) { reason = reason.slice(r.outcome.length + 2); }
    if (reason) { cell.append(": " + reason); }
    if (NEXT[r.outcome]) { cell.append(". Next: " + NEXT[r.outcome] + "."); }
  }

  function send(file, row, done) {
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("event", form.event.value);
    body.append("csrf", form.csrf.value);
    const xhr = new XMLHttpRequest();
    const bar = row.querySelector("progress");
    xhr.upload.onprogress = e => { if (e.lengthComputable) { bar.value = 100 * e.loaded / e.total; } };
    xhr.onload = () => {
      let r; try { r = JSON.parse(xhr.responseText); } catch (err) { r = { outcome: "rejected", reason: "server error " + xhr.status }; }
      if (xhr.status >= 400) { r = { outcome: "rejected", reason: r.detail || ("server error " + xhr.status) }; }
      bar.value = 100;
      row.className = "outcome-" + r.outcome;
      show(row.querySelector(".result"), r);
      done();
    };
    xhr.onerror = () => { row.className = "outcome-rejected"; row.querySelector(".result").textContent = "network error: try again"; done(); };
    xhr.open("POST", "/api/photos");
    xhr.send(body);
  }

  form.addEventListener("submit", e => {
    if (!picked.length) { return; }
    e.preventDefault();
    list.innerHTML = ""; overall.hidden = false;
    let finished = 0; const total = picked.length;
    const rows = picked.map(f => {
      const li = document.createElement("li");
      li.innerHTML = "<progress max='100' value='0'></progress><span class='name'></span> <span class='result'>uploading…</span>";
      li.querySelector(".name").textContent = f.name;
      list.appendChild(li); return li;
    });
    let next = 0;
    function pump() {
      if (next >= total) { return; }
      const i = next++;
      send(picked[i], rows[i], () => { finished++; overallBar.value = 100 * finished / total; overallText.textContent = finished + " of " + total + " done"; pump(); });
    }
    for (let k = 0; k < Math.min(3, total); k++) { pump(); }
  });
})();
