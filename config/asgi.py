import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{__package__}.settings")  # sessions_ui.config in the wheel
application = get_asgi_application()
