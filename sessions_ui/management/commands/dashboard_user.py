"""Create (or update) a dashboard login with one of the roles the dashboard knows, on one source or the default one."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError

from sessions_ui.sources import Source, all_sources, create_source_permissions, get_source

ROLES = {
    "viewer": ("view",),
    "editor": ("view", "change"),
    "admin": ("view", "change", "delete"),
}


def source_permissions(source: Source, actions: tuple[str, ...]) -> list[Permission]:
    opts = source.Session._meta
    permissions = list(
        Permission.objects.filter(
            content_type__app_label=opts.app_label,
            content_type__model=opts.model_name,
            codename__in=[get_permission_codename(action, opts) for action in actions],
        )
    )
    if len(permissions) != len(actions):
        raise CommandError(f"The permissions of source {source.id} do not exist yet: run manage.py migrate first.")
    return permissions


class Command(BaseCommand):
    help = (
        "Create or update a login: viewer (read-only), editor (may edit) or admin (superuser: edit and delete)."
        " With --source, the role applies to that source only (no superuser): run once per source."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), default="viewer")
        parser.add_argument("--source", help="a source id (manage.py agno_sources list); default: the default source")
        parser.add_argument("--password", help="default: a random one, printed")
        parser.add_argument("--keep-password", action="store_true", help="leave the password of an existing user alone")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="only create: an existing user keeps its password, role and permissions (what ./run uses)",
        )

    def handle(self, *args, username, role, source, password, keep_password, if_missing, **options):
        chosen = get_source(source) if source else all_sources()[0]
        if chosen is None:
            known = ", ".join(s.id for s in all_sources())
            raise CommandError(f"There is no source {source!r} (known: {known}).")
        if if_missing and User.objects.filter(username=username).exists():
            self.stdout.write(f"Kept the existing login {username} (password and permissions unchanged)")
            return
        create_source_permissions()  # a source added to the sources file since the last migrate
        granted = source_permissions(chosen, ROLES[role])
        user, created = User.objects.get_or_create(username=username)
        if created or not keep_password:
            password = password or secrets.token_urlsafe(9)
            user.set_password(password)
        else:
            password = None
        if source is None:
            user.is_staff = role == "admin"
            user.is_superuser = role == "admin"
        user.save()
        # This source's permissions become the role's; the other sources' stay as they were.
        opts = chosen.Session._meta
        kept = user.user_permissions.exclude(
            content_type__app_label=opts.app_label, content_type__model=opts.model_name
        )
        user.user_permissions.set([*kept, *granted])
        shown = password if password else "(unchanged)"
        where = f" on source {chosen.id}" if source else ""
        self.stdout.write(
            f"{'Created' if created else 'Updated'} {role} login{where}: username {username}  password {shown}"
        )
