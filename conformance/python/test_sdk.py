"""The official Python SDK (lark-oapi) against the helpdesk server, through
the SDK's own API only."""

import io
import json
import os

import lark_oapi as lark
import pytest
from lark_oapi.api.helpdesk.v1 import (
    CreateTicketMessageRequest,
    CreateTicketMessageRequestBody,
    GetTicketRequest,
    ListTicketMessageRequest,
    StartServiceTicketRequest,
    StartServiceTicketRequestBody,
    TicketImageTicketRequest,
)
from lark_oapi.api.im.v1 import CreateImageRequest, CreateImageRequestBody
from lark_oapi.core.token.manager import TokenManager

from conftest import DEMO_IMAGES, LOG_ID

IMAGES = [(DEMO_IMAGES / n).read_bytes() for n in ("login-error.png", "step-1.png", "step-2.jpg", "step-3.webp")]


def client(server, party, **kw) -> lark.Client:
    b = lark.Client.builder().app_id(party.app_id).app_secret(party.app_secret).domain(server.base)
    if kw.get("manual_token"):
        b = b.enable_set_token(True)
    return b.log_level(lark.LogLevel.CRITICAL).build()


def helpdesk(party, token=None) -> lark.RequestOption:
    """Python has no helpdesk support of its own: the header goes in as is."""
    b = lark.RequestOption.builder().headers({"X-Lark-Helpdesk-Authorization": party.credential})
    if token:
        b = b.tenant_access_token(token)
    return b.build()


def upload(c, data: bytes) -> str:
    req = CreateImageRequest.builder().request_body(
        CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(data)).build()
    ).build()
    resp = c.im.v1.image.create(req)
    assert resp.success(), (resp.code, resp.msg)
    return resp.data.image_key


def start_service(c, party) -> str:
    req = StartServiceTicketRequest.builder().request_body(
        StartServiceTicketRequestBody.builder().human_service(True).open_id("ou_conformance").build()
    ).build()
    resp = c.helpdesk.v1.ticket.start_service(req, helpdesk(party))
    assert resp.success(), (resp.code, resp.msg)
    assert resp.data.chat_id
    return resp.data.ticket_id


def post(c, party, ticket_id, msg_type, content) -> str:
    req = (
        CreateTicketMessageRequest.builder()
        .ticket_id(ticket_id)
        .request_body(CreateTicketMessageRequestBody.builder().msg_type(msg_type).content(json.dumps(content)).build())
        .build()
    )
    resp = c.helpdesk.v1.ticket_message.create(req, helpdesk(party))
    assert resp.success(), (resp.code, resp.msg)
    return resp.data.message_id


def list_messages(c, party, ticket_id):
    req = ListTicketMessageRequest.builder().ticket_id(ticket_id).page(1).page_size(50).build()
    resp = c.helpdesk.v1.ticket_message.list(req, helpdesk(party))
    assert resp.success(), (resp.code, resp.msg)
    return resp.data


def image(c, party, ticket_id, msg_id, index=None, token=None):
    b = TicketImageTicketRequest.builder().ticket_id(ticket_id).msg_id(msg_id)
    if index is not None:
        b = b.index(index)
    return c.helpdesk.v1.ticket.ticket_image(b.build(), helpdesk(party, token))


@pytest.fixture(scope="module")
def ticket(server, world):
    """A ticket of tenant A with a text, an image and a post message (three
    images), all made through the SDK."""
    c = client(server, world.a)
    keys = [upload(c, data) for data in IMAGES]
    ticket_id = start_service(c, world.a)
    post(c, world.a, ticket_id, "text", {"text": "hello"})
    post(c, world.a, ticket_id, "image", {"image_key": keys[0]})
    paragraphs = [[{"tag": "text", "text": "steps"}]] + [[{"tag": "img", "image_key": k}] for k in keys[1:]]
    post(c, world.a, ticket_id, "post", {"zh_cn": {"title": "export fails", "content": paragraphs}})
    messages = {m.message_type: m for m in list_messages(c, world.a, ticket_id).messages}
    return {"id": ticket_id, "messages": messages}


def test_the_sdk_fetches_and_caches_its_own_token(server, world):
    party = world.b
    c = client(server, party)
    before = server.token_requests()
    ticket_id = start_service(c, party)
    for _ in range(3):
        resp = c.helpdesk.v1.ticket.get(GetTicketRequest.builder().ticket_id(ticket_id).build(), helpdesk(party))
        assert resp.success(), (resp.code, resp.msg)
    assert server.token_requests() - before == 1
    assert TokenManager.cache.get(f"self_tenant_token:{party.app_id}").startswith("t-")


def test_messages_list_and_ticket(server, world, ticket):
    c = client(server, world.a)
    data = list_messages(c, world.a, ticket["id"])
    assert data.total == 3
    assert [m.message_type for m in data.messages] == ["text", "image", "post"]
    for m in data.messages:
        assert isinstance(m.created_at, int) and m.id and m.message_id
    resp = c.helpdesk.v1.ticket.get(GetTicketRequest.builder().ticket_id(ticket["id"]).build(), helpdesk(world.a))
    assert resp.success(), (resp.code, resp.msg)
    assert resp.data.ticket.ticket_id == ticket["id"]
    assert resp.data.ticket.guest.id == "ou_conformance"
    assert isinstance(resp.data.ticket.created_at, int)


def test_every_image_comes_back_byte_for_byte(server, world, ticket):
    c = client(server, world.a)
    wanted = [(ticket["messages"]["image"], None, IMAGES[0])] + [
        (ticket["messages"]["post"], i, IMAGES[1 + i]) for i in range(3)
    ]
    for message, index, data in wanted:
        for msg_id in (message.id, message.message_id):
            resp = image(c, world.a, ticket["id"], msg_id, index)
            assert resp.success(), (resp.code, resp.msg)
            assert resp.file.read() == data
            assert resp.file_name and os.path.splitext(resp.file_name)[1] in (".png", ".jpg", ".webp")
            assert LOG_ID.match(resp.get_log_id())


def assert_error(resp, status, code, msg):
    assert not resp.success()
    assert (resp.raw.status_code, resp.code, resp.msg) == (status, code, msg)
    assert LOG_ID.match(resp.get_log_id())
    # The binary endpoint's response type leaves `error` as a plain dict.
    error = resp.error if isinstance(resp.error, dict) else vars(resp.error)
    assert error["log_id"] == resp.get_log_id()


BAD_REQUEST = (400, 154000, "Bad request, please check your request body")
FORBIDDEN = (403, 154003, "Please check you have the correct access")
NOT_FOUND = (404, 154004, "Resource not found")


def test_error_rows_as_the_sdk_reports_them(server, world, ticket):
    a = client(server, world.a)
    post_msg = ticket["messages"]["post"].id
    image_msg = ticket["messages"]["image"].id
    other_ticket = start_service(a, world.a)

    assert_error(image(a, world.a, ticket["id"], post_msg), *BAD_REQUEST)  # post without index
    assert_error(image(a, world.a, ticket["id"], post_msg, 3), *BAD_REQUEST)  # out of range
    assert_error(image(a, world.a, ticket["id"], post_msg, -1), *BAD_REQUEST)  # negative
    assert_error(image(a, world.a, other_ticket, post_msg, 0), *NOT_FOUND)  # message of another ticket
    assert_error(image(a, world.a, ticket["id"], ticket["messages"]["text"].id), *NOT_FOUND)  # no image
    # A helpdesk credential of another tenant.
    assert_error(image(a, world.b, ticket["id"], image_msg), *FORBIDDEN)
    # A store app.
    assert_error(image(client(server, world.a_store), world.a, ticket["id"], image_msg), *FORBIDDEN)
    # An app without a helpdesk scope.
    assert_error(
        image(client(server, world.a_no_helpdesk_scope), world.a, ticket["id"], image_msg),
        400,
        99991672,
        "Access denied. One of the following scopes is required: [helpdesk:all:readonly, helpdesk:all]",
    )
    # A bad token.
    manual = client(server, world.a, manual_token=True)
    assert_error(
        image(manual, world.a, ticket["id"], image_msg, token="t-not-a-token"),
        400,
        99991663,
        "Invalid access token for authorization. Please make a request with token attached.",
    )


def test_a_deleted_image(server, world):
    c = client(server, world.a)
    key = upload(c, IMAGES[2])
    ticket_id = start_service(c, world.a)
    msg = post(c, world.a, ticket_id, "image", {"image_key": key})
    assert image(c, world.a, ticket_id, msg).success()
    server.admin("image", "delete", "--ticket", ticket_id, "--msg", msg)
    assert_error(image(c, world.a, ticket_id, msg), 401, 154404, "Image might be deleted")


def test_the_cached_token_survives_a_server_restart(server, world, ticket):
    c = client(server, world.a)
    message = ticket["messages"]["image"]
    assert image(c, world.a, ticket["id"], message.id).success()
    server.restart()
    before = server.token_requests()
    resp = image(c, world.a, ticket["id"], message.id)
    assert resp.success(), (resp.code, resp.msg)
    assert resp.file.read() == IMAGES[0]
    assert server.token_requests() == before, "the SDK reused its cached token"
