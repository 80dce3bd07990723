"""Helpdesk events through the official Python SDK: its EventDispatcherHandler
(with an encrypt key and a verification token), behind an HTTP server of its
own, passes URL verification, receives both events through its typed
handlers, and the message handler fetches every image the event names
through the same SDK's ticket_image."""

import http.server
import io
import json
import threading
import time

import lark_oapi as lark
from lark_oapi.api.helpdesk.v1 import (
    Event,
    SubscribeEventRequest,
    SubscribeEventRequestBody,
    TicketImageTicketRequest,
    UnsubscribeEventRequest,
    UnsubscribeEventRequestBody,
)
from lark_oapi.core.model import RawRequest

from conftest import Party
from test_sdk import IMAGES, client, helpdesk, post, start_service, upload

ENCRYPT_KEY = "python conformance key"
VERIFICATION_TOKEN = "python conformance token"
EVENTS = [("helpdesk.ticket", "ticket.created_v1"), ("helpdesk.ticket_message", "ticket_message.created_v1")]


class Receiver:
    """The SDK's dispatcher behind http.server, as an app would run it."""

    def __init__(self, c, party):
        self.tickets = []
        self.messages = []
        self.images = {}  # message_id -> [bytes, ...]
        self.c, self.party = c, party
        self.dispatcher = (
            lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
            .register_p2_helpdesk_ticket_created_v1(self.on_ticket)
            .register_p2_helpdesk_ticket_message_created_v1(self.on_message)
            .build()
        )
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                req = RawRequest()
                req.uri = self.path
                req.headers = dict(self.headers.items())
                req.body = self.rfile.read(int(self.headers["Content-Length"]))
                resp = receiver.dispatcher.do(req)
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(resp.content or b"")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/webhook/event"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def on_ticket(self, data: lark.helpdesk.v1.P2HelpdeskTicketCreatedV1) -> None:
        self.tickets.append(data)

    def on_message(self, data: lark.helpdesk.v1.P2HelpdeskTicketMessageCreatedV1) -> None:
        ev = data.event
        content = ev.content
        if ev.msg_type == "image":
            indexes = [None]
        elif ev.msg_type == "post":
            indexes = list(range(len(content.image_keys)))
        else:
            indexes = []
        got = []
        for index in indexes:
            b = TicketImageTicketRequest.builder().ticket_id(ev.ticket.ticket_id).msg_id(ev.message_id)
            if index is not None:
                b = b.index(index)
            resp = self.c.helpdesk.v1.ticket.ticket_image(b.build(), helpdesk(self.party))
            assert resp.success(), (resp.code, resp.msg)
            got.append(resp.file.read())
        self.images[ev.message_id] = got
        self.messages.append(data)

    def stop(self):
        self.httpd.shutdown()


def subscription(c, party, subscribe: bool, only_messages=False):
    wanted = EVENTS[1:] if only_messages else EVENTS
    events = [Event.builder().type(t).subtype(s).build() for t, s in wanted]
    if subscribe:
        req = SubscribeEventRequest.builder().request_body(SubscribeEventRequestBody.builder().events(events).build())
        resp = c.helpdesk.v1.event.subscribe(req.build(), helpdesk(party))
    else:
        req = UnsubscribeEventRequest.builder().request_body(
            UnsubscribeEventRequestBody.builder().events(events).build()
        )
        resp = c.helpdesk.v1.event.unsubscribe(req.build(), helpdesk(party))
    assert resp.success(), (resp.code, resp.msg)


def test_the_event_dispatcher_gets_both_events_and_fetches_every_image(server, world):
    # An app of its own on tenant A's helpdesk, so that other tests' tickets
    # are not sent to a receiver that is gone.
    party = Party(server, world.a.tenant_key, {"helpdesk_id": world.a.helpdesk_id, "helpdesk_token": world.a.helpdesk_token})
    c = client(server, party)
    receiver = Receiver(c, party)
    try:
        out = server.admin(
            "app", "events", "--app", party.app_id, "--url", receiver.url,
            "--encrypt-key", ENCRYPT_KEY, "--verification-token", VERIFICATION_TOKEN,
        )
        assert out["encrypted"] is True and out["url"] == receiver.url
        subscription(c, party, True)

        keys = [upload(c, data) for data in IMAGES]
        ticket_id = start_service(c, party)
        post(c, party, ticket_id, "text", {"text": "hello"})
        image_msg = post(c, party, ticket_id, "image", {"image_key": keys[0]})
        paragraphs = [[{"tag": "text", "text": "steps"}]] + [[{"tag": "img", "image_key": k}] for k in keys[1:]]
        post_msg = post(c, party, ticket_id, "post", {"zh_cn": {"title": "export fails", "content": paragraphs}})

        deadline = time.time() + 15
        while len(receiver.messages) < 3 and time.time() < deadline:
            time.sleep(0.05)
        assert len(receiver.tickets) == 1 and len(receiver.messages) == 3

        created = receiver.tickets[0]
        assert created.header.event_type == "helpdesk.ticket.created_v1"
        assert created.header.app_id == party.app_id
        assert created.header.tenant_key == party.tenant_key
        assert created.event.ticket_id == ticket_id
        assert created.event.guest.id.open_id == "ou_conformance"

        kinds = [m.event.msg_type for m in receiver.messages]
        assert kinds == ["text", "image", "post"]
        assert receiver.messages[0].event.text == "hello"
        assert receiver.messages[1].event.content.image_key == keys[0]
        assert receiver.messages[2].event.content.image_keys == keys[1:]
        assert receiver.images[image_msg] == [IMAGES[0]]
        assert receiver.images[post_msg] == IMAGES[1:]
        ids = {m.header.event_id for m in receiver.messages} | {created.header.event_id}
        assert len(ids) == 4
    finally:
        subscription(c, party, False)
        server.admin("app", "events", "--app", party.app_id, "--url", "")
        receiver.stop()


def test_a_url_that_does_not_answer_the_challenge_is_refused(server, world):
    import subprocess

    from conftest import BIN

    class Plain(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"msg":"ok"}')

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        out = subprocess.run(
            [BIN, "admin", "--data-dir", server.data_dir, "app", "events", "--app", world.a.app_id,
             "--url", f"http://127.0.0.1:{httpd.server_port}/"],
            capture_output=True, text=True,
        )
        assert out.returncode != 0
        assert "did not return the challenge" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    finally:
        httpd.shutdown()
