"""The JavaScript libraries vendored under static/vendor/, pinned: name, version, the npm package each
file comes from with its registry integrity, and the sha256 of the file as shipped. A test checks the
files against this list, so an unreviewed change to a vendored file fails the build.

Why these: Workbox (Google, MIT) is the service-worker toolkit the web platform's own guides use —
precaching with revisions, routing, network strategies with timeouts; idb (Jake Archibald, ISC) is a
1 kB promise wrapper over IndexedDB. Both are small (25 kB together), maintained, and need no build
step: their published builds are plain scripts. Dexie was not needed: the store keeps a few encrypted
records, it needs no queries.

To update: `npm pack <package>@<version>`, copy the file named here from the tarball's `package/build/`
(Workbox: `*.prod.js` and `workbox-sw.js`; idb: `umd.js` as `idb.umd.js`) and its `package/LICENSE`
into `static/vendor/<name>-<version>/`, remove the last line's `//# sourceMappingURL=` comment (the
maps are not shipped), and record the new hashes here. `npm view <package>@<version> dist.integrity`
gives the integrity.
"""

from __future__ import annotations

VENDORED = [
    # (file under static/, npm package@version, npm dist.integrity, sha256 of the file as shipped)
    ("vendor/idb-8.0.4/idb.umd.js", "idb@8.0.4",
     "sha512-jd0ITCrN+Zah4J7R/Z2jnR3W7A4BXDAjmo62MwWuSjxCiueUAf7X5rbodEdidWzeknwXHmLpdZkoiiCppNi30Q==",
     "84a1b83a821969a36592964874997757d8bde798dc1b89a5891391bd29e5c08c"),
    ("vendor/workbox-7.4.1/workbox-sw.js", "workbox-sw@7.4.1",
     "sha512-fez5f2DUlDJWTFYkCWQpY10N8gtztd849NswCbVFk0QlcSM4HT5A8x4g4ii650yem4I8tHY0R7JZahwp3ltIPw==",
     "83b057903277fd77629873d23fb24c6d2d8db816b2565944686cb114f00cc39f"),
    ("vendor/workbox-7.4.1/workbox-core.prod.js", "workbox-core@7.4.1",
     "sha512-DT+vu46eh/2vRsSHTY4Xmc32Z1rr9PRlQUXr1Dx30ZuXRWwOsvZgGgcwxcasubQLQmbTNYZjv44LkBAQ4tT5tQ==",
     "6ce7c673467f5aa409e1dc029d80ea89bd0118a57d23836e50a8e3c67a3a5828"),
    ("vendor/workbox-7.4.1/workbox-precaching.prod.js", "workbox-precaching@7.4.1",
     "sha512-cdr/9qByww7yzEp7zg/qI4ukUrrNjQLgN+ONQRpjy/VqGQXwkgHwr00KksGJK8v0VifwDXBb8a4cWNZH71jn3Q==",
     "a0f1d21ff9e8545dd2dffcada440bcb5fc95c235b3c2e898a9a9ff7d9d5a771e"),
    ("vendor/workbox-7.4.1/workbox-routing.prod.js", "workbox-routing@7.4.1",
     "sha512-yubJGErZOusuidAenaL5ypfhQOa7urxP/f8E0ws7FPb4039RiWXUWBAyUkmUoOL/BcQGen3h0J8872d51IYxtA==",
     "7954efb1a2d57768c1b1d38cab55cf1080af8f04a5e6402bbc3b55e63477820c"),
    ("vendor/workbox-7.4.1/workbox-strategies.prod.js", "workbox-strategies@7.4.1",
     "sha512-GZxpaw9NbmOelj7667uZ2kpk5BFpOGbO4X0qjwh5ls8XQ8C+Lha5LQchTiUzsTFSS+NlUpftYAyOVXvQUrcqOQ==",
     "9481eb2d0a681d4cb53c8129b72e246d1a9f45aaa145954f51d006409e2f18e6"),
]
LICENCES = {"vendor/idb-8.0.4/LICENSE": "ISC", "vendor/workbox-7.4.1/LICENSE": "MIT"}
