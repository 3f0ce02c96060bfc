"""What the test suite runs with: config.settings, plus what a test run needs and a deployment must set itself.

Set in the environment, not only here, so that the processes the tests start (manage.py, gunicorn,
the Agno contract runs) inherit them; a test that checks a setting's absence removes it from its
subprocess's environment.
"""

import os

os.environ.setdefault("SECRET_KEY", "sessions-ui-tests-only-key-never-used-outside-the-test-suite-0123456789")
# One cache per process: the query-count tests count the statements on the dashboard's database
# connection, where the default database cache would add its own. tests/test_shared_cache.py covers
# the database cache and Redis, across processes.
os.environ.setdefault("CACHE_URL", "locmem://")

from config.settings import *  # noqa: E402, F403

# The browser tests' live server serves MEDIA_URL from disk, and the default "" means every path: one
# longer than a file name may be (a 10,000-character session id's page) failed there with a 500.
MEDIA_URL = "/media/"
