/* vitreem service worker (Workbox {{ "7.4.1" }}, vendored under static/vendor/). It keeps the field
 * notebook's shell and its files for offline use — never a page or an API answer: those carry personal
 * data, which on the phone lives only in the notebook's encrypted store. Offline, any page of the site
 * opens the shell, which shows the matching view from that store. */
importScripts("{{ workbox_sw }}");
workbox.setConfig({modulePathPrefix: "{{ workbox_dir }}", debug: false});
self.skipWaiting();
workbox.core.clientsClaim();
workbox.precaching.cleanupOutdatedCaches();
workbox.precaching.precacheAndRoute({{ precache|safe }});

var SHELL = "{{ shell_url }}";
// Pages come from the network only; when it fails (no signal) or hangs (a weak one), the shell.
workbox.routing.registerRoute(new workbox.routing.NavigationRoute(
  new workbox.strategies.NetworkOnly({networkTimeoutSeconds: 4}),
  {denylist: [/^\/admin\//, /^\/api\//, /^\/accounts\//]}));
workbox.routing.setCatchHandler(async function (options) {
  if (options.request.destination === "document") {
    var shell = await workbox.precaching.matchPrecache(SHELL);
    if (shell) return shell;
  }
  return Response.error();
});
