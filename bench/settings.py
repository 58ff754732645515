"""Settings of the benchmark server: the project's own, with the benchmark's URLconf.

``config.settings`` reads everything from the environment (``bench.common.bench_env``
sets it: the benchmark's database, DEBUG off, group commit on); only the URLconf
differs, adding the baseline endpoints that live in the benchmark, not in the app.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
