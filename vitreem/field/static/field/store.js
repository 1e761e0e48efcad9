/* The phone's store for field work: IndexedDB (through idb), every record of personal data encrypted.
 *
 * Keys: a random AES-GCM data key (256 bits) encrypts every record. It never leaves the phone and is
 * never stored in clear: it is stored wrapped (AES-KW) by a key derived from the worker's PIN with
 * PBKDF2-SHA256, and unwrapped for the session as a non-extractable CryptoKey, so page code cannot
 * read its bytes either. A wrong PIN fails the unwrap (AES-KW carries an integrity check).
 *
 * Stores: "meta" (the wrapped key and its salt, the account id and scope fingerprint, sync times: no
 * personal data), "vault" (the downloaded data, one encrypted record per collection), "outbox" (one
 * encrypted record per change; its status, kind and times are in clear so the outbox can be counted
 * without the PIN, e.g. to warn before logging out).
 */
(function (global) {
  "use strict";

  var DB_NAME = "vitreem-field";
  var DB_VERSION = 1;
  // OWASP's figure for PBKDF2-HMAC-SHA256 (2023). Stored with the lock, so it can be raised later.
  var PBKDF2_ITERATIONS = 600000;
  var enc = new TextEncoder();
  var dec = new TextDecoder();

  function open() {
    return global.idb.openDB(DB_NAME, DB_VERSION, {
      // Another tab erasing the store (logout) must not wait for this one.
      blocking: function (current, blocked, event) { event.target.close(); },
      upgrade: function (db) {
        db.createObjectStore("meta");
        db.createObjectStore("vault");
        var outbox = db.createObjectStore("outbox", {keyPath: "id"});
        outbox.createIndex("seq", "seq");
      }
    });
  }

  function randomBytes(n) {
    var bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    return bytes;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  async function kekFromPin(pin, salt, iterations) {
    var material = await crypto.subtle.importKey("raw", enc.encode(pin), "PBKDF2", false, ["deriveKey"]);
    return crypto.subtle.deriveKey({name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations},
      material, {name: "AES-KW", length: 256}, false, ["wrapKey", "unwrapKey"]);
  }

  async function unwrap(wrapped, kek) {
    return crypto.subtle.unwrapKey("raw", wrapped, kek, "AES-KW", {name: "AES-GCM", length: 256}, false,
      ["encrypt", "decrypt"]);
  }

  function Store(db) {
    this.db = db;
    this.key = null; // the unwrapped data key, for this page's life only
  }

  Store.open = async function () { return new Store(await open()); };

  // Everything goes: data, outbox, lock. Used at logout, on an account change, after wrong PINs.
  Store.wipe = async function () {
    await global.idb.deleteDB(DB_NAME, {blocked: function () {}});
  };

  Store.prototype.close = function () { this.db.close(); };

  Store.prototype.meta = function (name) { return this.db.get("meta", name); };
  Store.prototype.setMeta = function (name, value) { return this.db.put("meta", value, name); };

  Store.prototype.lock = function () { return this.meta("lock"); };

  // First use: a new data key, wrapped by the PIN. `account` = {userId, scopeKey}.
  Store.prototype.createLock = async function (pin, account) {
    var salt = randomBytes(16);
    var kek = await kekFromPin(pin, salt, PBKDF2_ITERATIONS);
    var dataKey = await crypto.subtle.generateKey({name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
    var wrapped = await crypto.subtle.wrapKey("raw", dataKey, kek, "AES-KW");
    await this.setMeta("lock", {salt: salt, iterations: PBKDF2_ITERATIONS, wrapped: wrapped,
      userId: account.userId, scopeKey: account.scopeKey, created: Date.now(), failures: 0});
    // From here on only the non-extractable copy is used.
    this.key = await unwrap(wrapped, kek);
  };

  // Returns true when the PIN opens the store; counts failures (the caller wipes after too many).
  Store.prototype.unlock = async function (pin) {
    var lock = await this.lock();
    if (!lock) return false;
    var kek = await kekFromPin(pin, lock.salt, lock.iterations);
    try {
      this.key = await unwrap(lock.wrapped, kek);
    } catch (e) {
      lock.failures = (lock.failures || 0) + 1;
      await this.setMeta("lock", lock);
      return false;
    }
    if (lock.failures) { lock.failures = 0; await this.setMeta("lock", lock); }
    return true;
  };

  // The record's slot is bound to its ciphertext (additional data), so records cannot be swapped.
  Store.prototype.encrypt = async function (slot, value) {
    var iv = randomBytes(12);
    var ct = await crypto.subtle.encrypt({name: "AES-GCM", iv: iv, additionalData: enc.encode(slot)}, this.key,
      enc.encode(JSON.stringify(value)));
    return {iv: iv, ct: ct};
  };

  Store.prototype.decrypt = async function (slot, box) {
    var plain = await crypto.subtle.decrypt({name: "AES-GCM", iv: box.iv, additionalData: enc.encode(slot)},
      this.key, box.ct);
    return JSON.parse(dec.decode(plain));
  };

  Store.prototype.get = async function (name) {
    var box = await this.db.get("vault", name);
    return box ? this.decrypt("vault:" + name, box) : null;
  };

  Store.prototype.put = async function (name, value) {
    return this.db.put("vault", await this.encrypt("vault:" + name, value), name);
  };

  Store.prototype.clearVault = function () { return this.db.clear("vault"); };

  // ------------------------------------------------------------ the outbox
  // item: {id, seq, status, kind, recordedAt, updatedAt} in clear + box (the change, its label and
  // the server's answer, encrypted).

  Store.prototype.outboxAdd = async function (change, label) {
    var seq = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    var item = {id: change.id, seq: seq, status: "waiting", kind: change.kind, recordedAt: change.recorded_at,
      updatedAt: Date.now()};
    item.box = await this.encrypt("outbox:" + change.id, {change: change, label: label, answer: null});
    await this.db.put("outbox", item);
    return item;
  };

  Store.prototype.outboxAll = async function () {
    var items = await this.db.getAllFromIndex("outbox", "seq");
    var self = this;
    return Promise.all(items.map(async function (item) {
      var body = await self.decrypt("outbox:" + item.id, item.box);
      return {id: item.id, seq: item.seq, status: item.status, kind: item.kind, recordedAt: item.recordedAt,
        updatedAt: item.updatedAt, change: body.change, label: body.label, answer: body.answer};
    }));
  };

  Store.prototype.outboxSet = async function (entry) {
    var item = {id: entry.id, seq: entry.seq, status: entry.status, kind: entry.kind, recordedAt: entry.recordedAt,
      updatedAt: Date.now()};
    item.box = await this.encrypt("outbox:" + entry.id, {change: entry.change, label: entry.label, answer: entry.answer});
    return this.db.put("outbox", item);
  };

  Store.prototype.outboxDelete = function (id) { return this.db.delete("outbox", id); };

  // Counted without the PIN (statuses are in clear).
  Store.countUnsent = async function () {
    var dbs = global.indexedDB.databases ? await global.indexedDB.databases() : [{name: DB_NAME}];
    if (!dbs.some(function (d) { return d.name === DB_NAME; })) return 0;
    var db = await open();
    try {
      var items = await db.getAll("outbox");
      return items.filter(function (i) { return i.status !== "sent"; }).length;
    } finally {
      db.close();
    }
  };

  global.FieldStore = Store;
  global.FieldStore.uuid = uuid;
  global.FieldStore.DB_NAME = DB_NAME;
})(self);
