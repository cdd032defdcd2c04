"""Webhook deliveries go to public addresses only: an endpoint cannot be pointed at the portal's
own network (private ranges, the cloud metadata service, loopback outside development), neither
by an IP literal in its URL, nor by a host name that resolves there, nor by a redirect."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal import webhooks
from portal.exceptions import ApplicationError
from portal.models import WebhookDelivery


class _Server:
    """A loopback HTTP server answering every POST with the given status and headers."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                server.hits += 1
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.7]/hook",  # IPv4-mapped
        "https://127.0.0.1/hook",  # loopback, outside development
        "https://[::1]/hook",
    ],
)
def test_a_url_naming_an_address_that_is_not_public_is_refused(settings, url):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    with pytest.raises(ApplicationError) as refused:
        webhooks.validated_url(url)
    assert "public address" in refused.value.message
    assert refused.value.extra == {"attr": "url"}


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "https://hooks.example.com/in"])
def test_public_addresses_and_host_names_are_accepted(settings, url):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    assert webhooks.validated_url(url) == url


@pytest.mark.django_db
def test_a_host_name_resolving_to_loopback_gets_no_delivery(
    settings, org, admin_member, django_capture_on_commit_callbacks
):
    server = _Server(200)
    try:
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True  # registered while allowed…
        url = server.url.replace("127.0.0.1", "localhost")
        webhooks.webhook_endpoint_create(
            organization=org, actor=admin_member, url=url, events=["import.finished"]
        )
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False  # …delivered where it is not
        settings.WEBHOOK_MAX_ATTEMPTS = 1
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = webhooks.webhook_event_emit(
                organization_id=org.pk, event="import.finished", data={"rows": 1}
            )
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.FAILED
        assert delivery.response_code is None
        assert "AddressRefused" in delivery.error and "not public" in delivery.error
        assert server.hits == 0
    finally:
        server.close()


@pytest.mark.django_db
def test_a_redirect_is_not_followed(
    settings, org, admin_member, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    target = _Server(200)
    redirecting = _Server(307, {"Location": target.url})
    try:
        webhooks.webhook_endpoint_create(
            organization=org, actor=admin_member, url=redirecting.url, events=["import.finished"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = webhooks.webhook_event_emit(
                organization_id=org.pk, event="import.finished", data={"rows": 1}
            )
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_code) == (WebhookDelivery.Status.FAILED, 307)
        assert (redirecting.hits, target.hits) == (1, 0)
    finally:
        target.close()
        redirecting.close()
