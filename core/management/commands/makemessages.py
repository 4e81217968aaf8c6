from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages without msgmerge's fuzzy guesses: a guessed translation of a
    similar string (e.g. "Teamwork" -> リモートワーク) is worse than none, which
    scripts/check_messages.py then reports."""

    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
