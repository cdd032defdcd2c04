"""Test settings: the real settings, with a fixed secret and fast password hashing.

DATABASE_URL / REDIS_URL still come from the environment, so CI runs on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from portal.settings import *  # noqa: F403  # the test settings extend the real ones

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Unit tests run tasks in-process; the Celery end-to-end test starts a real worker itself.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)  # noqa: F405
# One connection per request, as the tests have always run: no connection outlives a test's
# live-server thread or worker.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
