"""The app's settings, with the bench URLs (a default admin to compare against) and DEBUG off."""

import os
import secrets
import warnings

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # DEBUG is off: config.settings needs one

from config.settings import *  # noqa: E402, F403
from config.settings import ALLOWED_HOSTS, LOGGING  # noqa: E402

ROOT_URLCONF = "bench.urls"
DEBUG = False  # DEBUG keeps every query in memory: not what production serves
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# A page that fails shows as its status code in the table; its traceback would bury the table.
LOGGING = {**LOGGING, "loggers": {"django.request": {"level": "CRITICAL"}}}
warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic needed to measure
