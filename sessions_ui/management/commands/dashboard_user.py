"""Create (or update) a dashboard login with one of the roles the dashboard knows."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand

ROLES = {
    "viewer": ["view_agnosession"],
    "editor": ["view_agnosession", "change_agnosession"],
    "admin": ["view_agnosession", "change_agnosession", "delete_agnosession"],
}


class Command(BaseCommand):
    help = "Create or update a login: viewer (read-only), editor (may edit) or admin (superuser: edit and delete)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), default="viewer")
        parser.add_argument("--password", help="default: a random one, printed")
        parser.add_argument("--keep-password", action="store_true", help="leave the password of an existing user alone")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="only create: an existing user keeps its password, role and permissions (what ./run uses)",
        )

    def handle(self, *args, username, role, password, keep_password, if_missing, **options):
        if if_missing and User.objects.filter(username=username).exists():
            self.stdout.write(f"Kept the existing login {username} (password and permissions unchanged)")
            return
        user, created = User.objects.get_or_create(username=username)
        if created or not keep_password:
            password = password or secrets.token_urlsafe(9)
            user.set_password(password)
        else:
            password = None
        user.is_staff = role == "admin"
        user.is_superuser = role == "admin"
        user.save()
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="sessions_ui", codename__in=ROLES[role])
        )
        shown = password if password else "(unchanged)"
        self.stdout.write(f"{'Created' if created else 'Updated'} {role} login: username {username}  password {shown}")
