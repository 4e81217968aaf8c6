"""SMS through Twilio (core.channels.twilio_sms) against a fake Twilio API on 127.0.0.1,
and Twilio's status callbacks (POST /sms/twilio/status) with valid and invalid signatures."""

import base64
import uuid

import pytest

from core.channels import Message, PermanentError
from core.channels.base import idempotency_key_for
from core.channels.twilio_sms import TwilioSms
from core.models import SmsDelivery
from core.outbox import TransientError
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, twilio_error, twilio_signature

pytestmark = pytest.mark.django_db

TO = "+819012345678"
STATUS_URL = "https://urakata.test/sms/twilio/status"


def _send(key="row-key"):
    TwilioSms().send(Message(to=TO, body="明日10:00 ご相談です", idempotency_key=idempotency_key_for(key)))


def test_it_creates_the_message_with_twilios_api_and_records_its_sid(fake_twilio):
    _send()

    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {basic}"
    assert request["form"] == {
        "To": TO,
        "From": FROM_NUMBER,
        "Body": "明日10:00 ご相談です",
        "StatusCallback": STATUS_URL,
    }
    delivery = SmsDelivery.objects.get()
    assert (delivery.idempotency_key, delivery.provider, delivery.provider_id, delivery.status) == (
        idempotency_key_for("row-key"),
        "twilio",
        "SM" + "0" * 31 + "1",
        "queued",
    )


def test_a_messaging_service_replaces_the_from_number(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32

    _send()

    (request,) = fake_twilio.requests
    assert "From" not in request["form"]
    assert request["form"]["MessagingServiceSid"] == "MG" + "1" * 32


def test_a_row_twilio_accepted_is_never_sent_again(fake_twilio):
    _send()
    _send()  # the same outbox row retried (a crash after the SID was recorded, a resend)
    _send("another-row")

    assert len(fake_twilio.requests) == 2
    assert SmsDelivery.objects.count() == 2


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (
            (429, twilio_error(429, 20429, "Too Many Requests")),
            TransientError,
            "Twilio answered 429: 20429 Unable to create record: Too Many Requests",
        ),
        (
            (500, twilio_error(500, 20500, "Internal Server Error")),
            TransientError,
            "Twilio answered 500: 20500 Unable to create record: Internal Server Error",
        ),
        (
            (503, twilio_error(503, 20503, "Service Unavailable")),
            TransientError,
            "Twilio answered 503: 20503 Unable to create record: Service Unavailable",
        ),
        (
            (400, twilio_error(400, 21211, "The 'To' number +819012345678 is not a valid phone number.")),
            PermanentError,
            "Twilio answered 400: 21211 Unable to create record:"
            " The 'To' number +819012345678 is not a valid phone number.",
        ),
        (
            (400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")),
            PermanentError,
            "Twilio answered 400: 21610 Unable to create record: Attempt to send to unsubscribed recipient",
        ),
        (
            (401, twilio_error(401, 20003, "Authenticate")),
            PermanentError,
            "Twilio answered 401: 20003 Unable to create record: Authenticate",
        ),
    ],
)
def test_429_and_5xx_are_transient_other_refusals_permanent(fake_twilio, answer, error, text):
    status, reply = answer
    fake_twilio.script = [(status, reply, 0)]

    with pytest.raises(error) as raised:
        _send()

    assert str(raised.value) == text
    assert not SmsDelivery.objects.exists()  # nothing accepted: a retry may send it


def test_a_slow_answer_times_out_as_transient(fake_twilio):
    fake_twilio.script = [(201, None, 2.0)]

    with pytest.raises(TransientError, match=r"^Twilio unreachable: (ReadTimeout|ConnectionError)$"):
        _send()

    assert len(fake_twilio.requests) == 1
    assert not SmsDelivery.objects.exists()


def test_without_credentials_twilio_fails_permanently(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(PermanentError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set"):
        _send()
    assert fake_twilio.requests == []


# --- Status callbacks ----------------------------------------------------------------------


def _delivery(status="queued"):
    return SmsDelivery.objects.create(
        idempotency_key=uuid.uuid4(), provider="twilio", provider_id="SM" + "a" * 32, status=status
    )


def _callback(client, params, signature):
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
    return client.post("/sms/twilio/status", params, **headers)


def test_a_signed_status_callback_records_the_status(client, fake_twilio):
    delivery = _delivery()
    params = {"MessageSid": delivery.provider_id, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}

    response = _callback(client, params, twilio_signature(STATUS_URL, params))

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == ("delivered", "")


def test_a_failure_callback_keeps_twilios_error_code(client, fake_twilio):
    delivery = _delivery("sent")
    params = {"MessageSid": delivery.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30005"}

    assert _callback(client, params, twilio_signature(STATUS_URL, params)).status_code == 204

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == ("undelivered", "30005")


def test_a_late_callback_does_not_move_a_status_back(client, fake_twilio):
    delivery = _delivery("delivered")
    params = {"MessageSid": delivery.provider_id, "MessageStatus": "sent"}

    assert _callback(client, params, twilio_signature(STATUS_URL, params)).status_code == 204

    delivery.refresh_from_db()
    assert delivery.status == "delivered"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        twilio_signature(
            STATUS_URL, {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent"}
        ),  # other params
        twilio_signature(
            STATUS_URL, {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed"}, "other-token"
        ),
        twilio_signature(
            "https://evil.example/sms/twilio/status",
            {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed"},
        ),
    ],
)
def test_a_callback_without_a_valid_signature_is_403_and_changes_nothing(client, fake_twilio, signature):
    delivery = _delivery()
    params = {"MessageSid": delivery.provider_id, "MessageStatus": "failed"}

    response = _callback(client, params, signature)

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "queued"


def test_staff_see_undelivered_sms_with_their_error_code_in_the_admin(client, fake_twilio):
    from accounts.models import Groups
    from accounts.services import staff_user_create

    delivery = _delivery("sent")
    params = {"MessageSid": delivery.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    _callback(client, params, twilio_signature(STATUS_URL, params))
    advisor = staff_user_create(email="sms@urakata.example", display_name="SMS", group=Groups.ADVISORS)
    client.force_login(advisor)

    page = client.get(
        "/admin/core/smsdelivery/", {"status": "undelivered"}, headers={"Accept-Language": "en"}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert delivery.provider_id in html
    assert "30005" in html
    assert client.get(f"/admin/core/smsdelivery/{delivery.pk}/delete/").status_code == 403
