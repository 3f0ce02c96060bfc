import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{__package__}.settings")  # sessions_ui.config in the wheel
application = get_wsgi_application()
