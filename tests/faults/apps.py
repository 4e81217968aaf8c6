from django.apps import AppConfig


class FaultsConfig(AppConfig):
    """Loaded only by tests.faults.settings (the processes the fault tests start)."""

    name = "tests.faults"
    label = "faults"

    def ready(self) -> None:
        from tests.faults import sink  # noqa: F401 - registers the fake channel's handler
