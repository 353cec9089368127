import pytest

from forecasting import payment_model


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    # The test machine is shared: OpenMP threads waiting on busy cores make fitting far slower.
    monkeypatch.setattr(payment_model, "THREADS", 1)
