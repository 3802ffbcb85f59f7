import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Create the first administrator, with a random password printed once, when there is none.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help=_("User name of the administrator to create."))

    def handle(self, *args, username: str, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            _("Administrator “%(username)s” created. Sign in with this password and change it in the admin:")
            % {"username": username}
        )
        # Alone on its line, so that no punctuation is copied with it.
        self.stdout.write(password)
