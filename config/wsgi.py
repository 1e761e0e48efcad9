import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
# Each web process loads the URLconf (every app's views and API schema) now, before it takes a request:
# Django loads it on the first request, whose visitor waited 0.9 s for it (a province's dashboard, first
# request of a worker: 1.4 s, then 0.1 s; measured on the 1,000,000-child country).
get_resolver().url_patterns  # noqa: B018 — evaluated for its import
# What is loaded by now (modules, the URLconf, models, templates' code: some 156,000 objects) lives as
# long as the process. Moved out of the collector's generations, a full collection no longer walks it:
# it ran about once every 50 requests of the demo's persona mix and took 92 ms, a pause of whichever
# request triggered it (28 ms with the freeze; in process, a machine two to three times slower than stop 49's).
gc.collect()
gc.freeze()
