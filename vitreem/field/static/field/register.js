/* On the commune worker's pages: install the service worker (offline use of the field notebook), and
 * at logout erase the notebook's store from the phone, warning first if changes are not sent yet. The
 * logout response also carries Clear-Site-Data, which erases it even without this script. */
(function () {
  "use strict";
  if (window.vitreemFieldRegister) return;
  window.vitreemFieldRegister = true;
  var DB_NAME = "vitreem-field";

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/field/sw.js", {scope: "/"}).catch(function () { /* offline use unavailable */ });
    });
  }

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  // Changes on the phone not yet accepted by the server (statuses are stored in clear for this).
  function countUnsent() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(0); return; }
      var listing = indexedDB.databases ? indexedDB.databases() : Promise.resolve([{name: DB_NAME}]);
      listing.then(function (dbs) {
        if (!dbs.some(function (d) { return d.name === DB_NAME; })) { resolve(0); return; }
        var req = indexedDB.open(DB_NAME);
        req.onerror = function () { resolve(0); };
        req.onsuccess = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
          var all = db.transaction("outbox").objectStore("outbox").getAll();
          all.onsuccess = function () {
            db.close();
            resolve(all.result.filter(function (i) { return i.status !== "sent"; }).length);
          };
          all.onerror = function () { db.close(); resolve(0); };
        };
      }, function () { resolve(0); });
    });
  }

  function wipe() {
    var jobs = [new Promise(function (resolve) {
      var req = indexedDB.deleteDatabase(DB_NAME);
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    })];
    if (window.caches) jobs.push(caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }));
    return Promise.all(jobs);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("logout-form") || form.dataset.wiped) return;
    event.preventDefault();
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token && !token.value) token.value = cookie("csrftoken");
    countUnsent().then(function (n) {
      if (n && !window.confirm((form.dataset.unsent || "").replace("%(n)s", n))) return;
      return wipe().then(function () { form.dataset.wiped = "1"; form.submit(); });
    });
  }, true);
})();
