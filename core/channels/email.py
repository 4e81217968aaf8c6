"""Email through Django's email backend (EMAIL_URL / EMAIL_BACKEND): SMTP, a file, the
console, or any provider's backend such as django-anymail's (README, "Channels")."""

from django.conf import settings
from django.core.mail import EmailMessage

from core.channels.base import Message


class EmailChannel:
    def send(self, message: Message) -> None:
        email = EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to])
        for attachment in message.attachments:
            email.attach(attachment.filename, attachment.content, attachment.mimetype)
        # SMTP failures (smtplib.SMTPException, OSError) are retried by the outbox.
        email.send()
