"""Tickets through their whole life with the official Python SDK (lark-oapi),
through its typed API only: list with its filters, update as an agent with
a user access token, ticket customized fields, customized_fields,
answer_user_query, start_service's appointed agents and the
helpdesk.ticket.updated_v1 event in the SDK's EventDispatcherHandler.

Each test that counts what a helpdesk holds runs on a tenant of its own
(server.new_party), so the other suites' tickets do not show up in it."""

import http.server
import threading
import time

import lark_oapi as lark
import pytest
from lark_oapi.api.helpdesk.v1 import (
    AnswerUserQueryTicketRequest,
    AnswerUserQueryTicketRequestBody,
    CreateTicketCustomizedFieldRequest,
    CreateTicketMessageRequest,
    CreateTicketMessageRequestBody,
    CustomizedFieldDisplayItem,
    CustomizedFieldsTicketRequest,
    DeleteTicketCustomizedFieldRequest,
    Event,
    GetTicketCustomizedFieldRequest,
    GetTicketRequest,
    ListTicketCustomizedFieldRequest,
    ListTicketCustomizedFieldRequestBody,
    ListTicketRequest,
    PatchTicketCustomizedFieldRequest,
    StartServiceTicketRequest,
    StartServiceTicketRequestBody,
    SubscribeEventRequest,
    SubscribeEventRequestBody,
    TicketCustomizedField,
    UpdateTicketRequest,
    UpdateTicketRequestBody,
    UserQueryFaqInfo,
)
from lark_oapi.core.model import RawRequest
from lark_oapi.core.token.manager import TokenManager

from test_events import ENCRYPT_KEY, VERIFICATION_TOKEN
from test_sdk import BAD_REQUEST, FORBIDDEN, NOT_FOUND, assert_error, client, helpdesk

TENANT_TOKEN_REFUSED = (400, 99991663, "tenant access token not support")
USER_TOKEN_REFUSED = (400, 99991668, "user access token not support")
PRIORITIES = ["high", "low"]


# --- the SDK calls, one helper each -----------------------------------------


def sdk(server, party) -> lark.Client:
    """A client that fetches its own tenant token and can also send the user
    access token a request option carries (enable_set_token)."""
    return client(server, party, manual_token=True)


def as_agent(agent) -> lark.RequestOption:
    """The agent's user access token; no helpdesk header (the agent's own
    helpdesk is used)."""
    return lark.RequestOption.builder().user_access_token(agent["user_access_token"]).build()


def ok(resp):
    assert resp.success(), (resp.raw.status_code, resp.code, resp.msg, resp.error)
    return getattr(resp, "data", None)  # the types of {} answers have no data


def hint(resp) -> str:
    """The error's hint detail (the response types leave `error` a dict)."""
    error = resp.error if isinstance(resp.error, dict) else vars(resp.error)
    return " ".join(d["value"] for d in error.get("details", []) if d["key"] == "hint")


def assert_refused(resp, status, code):
    assert not resp.success()
    assert (resp.raw.status_code, resp.code) == (status, code), (resp.msg, resp.error)


def start_service(c, party, guest, agents=None):
    body = StartServiceTicketRequestBody.builder().human_service(True).open_id(guest)
    if agents is not None:
        body = body.appointed_agents([a["agent_id"] if isinstance(a, dict) else a for a in agents])
    req = StartServiceTicketRequest.builder().request_body(body.build()).build()
    return c.helpdesk.v1.ticket.start_service(req, helpdesk(party))


def new_ticket(c, party, guest, agents=None) -> str:
    return ok(start_service(c, party, guest, agents)).ticket_id


def get_ticket(c, party, ticket_id):
    """The ticket as the SDK's typed model (TicketV2)."""
    return ok(c.helpdesk.v1.ticket.get(GetTicketRequest.builder().ticket_id(ticket_id).build(), helpdesk(party))).ticket


def update(c, ticket_id, option, **fields):
    """PUT /tickets/:id with UpdateTicketRequestBody's builder methods by name,
    e.g. update(c, t, as_agent(alice), status=50, comment="done")."""
    body = UpdateTicketRequestBody.builder()
    for name, value in fields.items():
        body = getattr(body, name)(value)
    req = UpdateTicketRequest.builder().ticket_id(ticket_id).request_body(body.build()).build()
    return c.helpdesk.v1.ticket.update(req, option)


def field_value(key_name, value) -> CustomizedFieldDisplayItem:
    return CustomizedFieldDisplayItem.builder().key_name(key_name).value(value).build()


def list_tickets(c, party, option=None, **query):
    """GET /tickets with ListTicketRequest's builder methods by name."""
    req = ListTicketRequest.builder()
    for name, value in query.items():
        req = getattr(req, name)(value)
    return c.helpdesk.v1.ticket.list(req.build(), option or helpdesk(party))


def listed_ids(c, party, **query) -> list:
    return [t.ticket_id for t in ok(list_tickets(c, party, **query)).tickets]


def post_text(c, party, ticket_id, text):
    body = CreateTicketMessageRequestBody.builder().msg_type("text").content(f'{{"text": "{text}"}}').build()
    req = CreateTicketMessageRequest.builder().ticket_id(ticket_id).request_body(body).build()
    return c.helpdesk.v1.ticket_message.create(req, helpdesk(party))


def field(key_name, field_type="string", **attrs) -> TicketCustomizedField:
    """A TicketCustomizedField from its builder. The SDK's model has no
    dropdown_options: a dropdown's options (`options=[tag, ...]`) go in as an
    attribute of the built model, which the SDK's JSON encoder sends as is."""
    options = attrs.pop("options", None)
    b = TicketCustomizedField.builder().key_name(key_name).display_name(key_name.title()).field_type(field_type)
    for name, value in attrs.items():
        b = getattr(b, name)(value)
    built = b.build()
    if options is not None:
        built.dropdown_options = {"children": [{"tag": t, "display_name": t.title(), "children": []} for t in options]}
    return built


def create_field(c, agent, model):
    req = CreateTicketCustomizedFieldRequest.builder().request_body(model).build()
    return c.helpdesk.v1.ticket_customized_field.create(req, as_agent(agent))


def list_fields(c, party, page_size=None, page_token=None, visible=None):
    b = ListTicketCustomizedFieldRequest.builder()
    if page_size is not None:
        b = b.page_size(page_size)
    if page_token is not None:
        b = b.page_token(page_token)
    if visible is not None:
        b = b.request_body(ListTicketCustomizedFieldRequestBody.builder().visible(visible).build())
    return ok(c.helpdesk.v1.ticket_customized_field.list(b.build(), helpdesk(party)))


def all_fields(c, party) -> dict:
    """key_name -> TicketCustomizedField, over every page."""
    found, token = {}, None
    while True:
        page = list_fields(c, party, page_size=100, page_token=token)
        found.update({f.key_name: f for f in page.items or []})
        if not page.has_more:
            return found
        token = page.next_page_token


def get_field(c, party, field_id):
    req = GetTicketCustomizedFieldRequest.builder().ticket_customized_field_id(field_id).build()
    return c.helpdesk.v1.ticket_customized_field.get(req, helpdesk(party))


def new_field(c, party, agent, model) -> str:
    """Creates the field and returns its id. The SDK's create response has no
    data, so the id is found the way an SDK user finds it: by key_name."""
    ok(create_field(c, agent, model))
    return all_fields(c, party)[model.key_name].ticket_customized_field_id


# --- list ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def listing(server):
    """Four tickets of a helpdesk of their own, each created in a later second
    than the one before (ticket times are seconds):

    t1 Carol Lin, Alice, status 2, tags vip+billing
    t2 Dave Lin,  Bob,   status 3, solved
    t3 Erin Stone, Alice, status 5, tag billing, not solved
    t4 Carol Lin, Bob,   status 50 (closed by Bob), tag refund
    """
    party = server.new_party("Listing")
    c = sdk(server, party)
    alice, bob = server.agent(party, "Alice"), server.agent(party, "Bob")
    carol, dave, erin = (server.user(party, n) for n in ("Carol Lin", "Dave Lin", "Erin Stone"))
    plan = [
        (carol, alice, dict(status=2, tag_names=["vip", "billing"])),
        (dave, bob, dict(status=3, solved=2)),
        (erin, alice, dict(status=5, tag_names=["billing"], solved=1)),
        (carol, bob, dict(status=50, tag_names=["refund"])),
    ]
    ids = []
    for i, (guest, agent, changes) in enumerate(plan):
        if i:
            time.sleep(1.1)
        ids.append(new_ticket(c, party, guest, [agent]))
        ok(update(c, ids[-1], as_agent(agent), **changes))
    tickets = {f"t{i + 1}": get_ticket(c, party, t) for i, t in enumerate(ids)}
    ids = {name: t.ticket_id for name, t in tickets.items()}
    return {"c": c, "party": party, "alice": alice, "bob": bob, "carol": carol, "tickets": tickets, "ids": ids}


def names(listing, ticket_ids) -> list:
    by_id = {v: k for k, v in listing["ids"].items()}
    return [by_id[t] for t in ticket_ids]


def test_list_returns_every_ticket_newest_first_with_its_total(listing):
    data = ok(list_tickets(listing["c"], listing["party"]))
    assert data.total == 4
    assert names(listing, [t.ticket_id for t in data.tickets]) == ["t4", "t3", "t2", "t1"]
    created = [t.created_at for t in data.tickets]
    assert created == sorted(created, reverse=True) and len(set(created)) == 4
    t1 = next(t for t in data.tickets if t.ticket_id == listing["ids"]["t1"])
    assert t1.guest.name == "Carol Lin" and [a.id for a in t1.agents] == [listing["alice"]["agent_id"]]
    assert sorted(tag.name for tag in t1.tags) == ["billing", "vip"]


def test_list_keeps_the_tickets_of_either_of_two_statuses_and_leaves_out_a_third(listing):
    c, party = listing["c"], listing["party"]
    assert names(listing, listed_ids(c, party, status_list=[2, 3])) == ["t2", "t1"]
    assert names(listing, listed_ids(c, party, status_list=[5])) == ["t3"]
    assert ok(list_tickets(c, party, status_list=[2, 3])).total == 2


def test_list_keeps_the_tickets_created_within_a_millisecond_range(listing):
    c, party, t = listing["c"], listing["party"], listing["tickets"]
    start, end = t["t2"].created_at * 1000, t["t3"].created_at * 1000 + 999
    assert t["t1"].created_at * 1000 < start and t["t4"].created_at * 1000 > end
    got = ok(list_tickets(c, party, create_time_start=start, create_time_end=end))
    assert names(listing, [x.ticket_id for x in got.tickets]) == ["t3", "t2"] and got.total == 2
    later = listed_ids(c, party, create_time_start=t["t4"].created_at * 1000, create_time_end=int(time.time() * 1000))
    assert names(listing, later) == ["t4"]


def test_list_keeps_the_tickets_whose_guest_name_contains_a_substring(listing):
    c, party = listing["c"], listing["party"]
    assert names(listing, listed_ids(c, party, guest_name="Lin")) == ["t4", "t2", "t1"]
    assert names(listing, listed_ids(c, party, guest_name="Stone")) == ["t3"]
    assert listed_ids(c, party, guest_name="lin") == []  # case-sensitive
    assert names(listing, listed_ids(c, party, guest_id=listing["carol"])) == ["t4", "t1"]


def test_list_keeps_the_tickets_of_an_agent_a_solved_state_a_tag_or_a_closer(listing):
    c, party = listing["c"], listing["party"]
    alice, bob = listing["alice"]["agent_id"], listing["bob"]["agent_id"]
    assert names(listing, listed_ids(c, party, agent_id=alice)) == ["t3", "t1"]
    assert names(listing, listed_ids(c, party, solved=2)) == ["t2"]
    assert names(listing, listed_ids(c, party, solved=1)) == ["t3"]
    assert names(listing, listed_ids(c, party, tags=["vip", "refund"])) == ["t4", "t1"]
    assert names(listing, listed_ids(c, party, tags=["billing"])) == ["t3", "t1"]
    assert names(listing, listed_ids(c, party, closed_by_id=bob)) == ["t4"]
    assert names(listing, listed_ids(c, party, agent_id=alice, tags=["billing"], status_list=[5])) == ["t3"]


def test_list_pages_newest_first_and_counts_every_match_in_total(listing):
    c, party = listing["c"], listing["party"]
    page1 = ok(list_tickets(c, party, page=1, page_size=2))
    page2 = ok(list_tickets(c, party, page=2, page_size=2))
    page3 = ok(list_tickets(c, party, page=3, page_size=2))
    assert names(listing, [t.ticket_id for t in page1.tickets]) == ["t4", "t3"]
    assert names(listing, [t.ticket_id for t in page2.tickets]) == ["t2", "t1"]
    assert not page3.tickets
    assert page1.total == page2.total == page3.total == 4
    lin = ok(list_tickets(c, party, guest_name="Lin", page=2, page_size=2))
    assert names(listing, [t.ticket_id for t in lin.tickets]) == ["t1"] and lin.total == 3


def test_list_refuses_a_page_size_out_of_range_and_half_a_time_range(listing):
    c, party = listing["c"], listing["party"]
    assert_error(list_tickets(c, party, page_size=201), *BAD_REQUEST)
    assert_error(list_tickets(c, party, page_size=0), *BAD_REQUEST)
    assert_error(list_tickets(c, party, create_time_start=1), *BAD_REQUEST)


# --- update --------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(server):
    """A helpdesk of its own with two agents, a dropdown field and a text
    field, both created by Alice through the SDK."""
    party = server.new_party("Updates")
    c = sdk(server, party)
    alice, bob = server.agent(party, "Alice"), server.agent(party, "Bob")
    guest = server.user(party, "Grace Guest")
    new_field(c, party, alice, field("priority", "dropdown", position="1", options=PRIORITIES))
    new_field(c, party, alice, field("order_no", position="2"))
    return {"c": c, "party": party, "alice": alice, "bob": bob, "guest": guest}


def test_an_agent_closes_a_ticket_and_get_shows_who_closed_it_when_and_with_what(desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])

    ok(update(c, ticket_id, as_agent(alice), status=2))
    opened = get_ticket(c, party, ticket_id)
    assert opened.status == 2 and opened.closed_at == 0 and opened.closed_by is None

    ok(update(
        c, ticket_id, as_agent(alice), status=50, comment="refund sent", tag_names=["refund", "vip"],
        customized_fields=[field_value("priority", "high"), field_value("order_no", "A-1042")],
    ))
    closed = get_ticket(c, party, ticket_id)
    assert closed.status == 50
    assert closed.closed_at > 0 and closed.closed_at == closed.updated_at
    assert closed.closed_by.id == alice["agent_id"] and closed.closed_by.name == "Alice"
    assert closed.comments.content == "refund sent" and closed.comments.user_name == "Alice"
    assert sorted(t.name for t in closed.tags) == ["refund", "vip"]
    values = {f.key_name: f.value for f in closed.customized_fields}
    assert values == {"priority": "high", "order_no": "A-1042"}
    assert {f.key_name: f.position for f in closed.customized_fields} == {"priority": 1, "order_no": 2}

    ok(update(c, ticket_id, as_agent(alice), status=2))
    reopened = get_ticket(c, party, ticket_id)
    assert reopened.closed_at == 0 and reopened.closed_by is None


def test_a_dropdown_value_that_is_not_an_option_is_refused_with_a_hint_naming_it(desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    resp = update(c, ticket_id, as_agent(alice), customized_fields=[field_value("priority", "urgent")])
    assert_error(resp, *BAD_REQUEST)
    assert "urgent" in hint(resp) and "priority" in hint(resp)
    assert "urgent" not in [f.value for f in get_ticket(c, party, ticket_id).customized_fields or []]


def test_a_status_out_of_the_set_is_refused(desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    assert_error(update(c, ticket_id, as_agent(alice), status=4), *BAD_REQUEST)


def test_a_status_2_by_an_agent_not_on_the_ticket_adds_it_to_the_agents(desk):
    c, party, alice, bob = desk["c"], desk["party"], desk["alice"], desk["bob"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    ok(update(c, ticket_id, as_agent(bob), status=2))
    assert [a.id for a in get_ticket(c, party, ticket_id).agents] == [alice["agent_id"], bob["agent_id"]]


def test_update_refuses_a_tenant_token_and_list_refuses_a_user_token(server, desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    tenant_token = TokenManager.get_self_tenant_token(c.config)
    assert tenant_token.startswith("t-")
    # Update declares a user token only: the tenant token goes in its place.
    wrong = lark.RequestOption.builder().user_access_token(tenant_token).build()
    assert_error(update(c, ticket_id, wrong, status=2), *TENANT_TOKEN_REFUSED)
    # List declares a tenant token only: the user token goes in its place.
    user = lark.RequestOption.builder().tenant_access_token(alice["user_access_token"]).headers(
        {"X-Lark-Helpdesk-Authorization": party.credential}
    ).build()
    assert_error(list_tickets(c, party, user), *USER_TOKEN_REFUSED)
    assert get_ticket(c, party, ticket_id).status != 2


def test_a_disabled_agents_token_is_refused_until_it_is_enabled_again(server, desk):
    c, party = desk["c"], desk["party"]
    carl = server.agent(party, "Carl")
    ticket_id = new_ticket(c, party, desk["guest"], [desk["alice"]])
    server.admin("agent", "disable", "--agent", carl["agent_id"])
    assert_refused(update(c, ticket_id, as_agent(carl), comment="while disabled"), 400, 99991668)
    server.admin("agent", "enable", "--agent", carl["agent_id"])
    ok(update(c, ticket_id, as_agent(carl), comment="enabled again"))
    assert get_ticket(c, party, ticket_id).comments.content == "enabled again"


def test_a_user_token_may_carry_its_own_helpdesks_credential_but_not_another(server, desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    other = server.new_party("Other credential")

    def with_credential(of):
        return lark.RequestOption.builder().user_access_token(alice["user_access_token"]).headers(
            {"X-Lark-Helpdesk-Authorization": of.credential}
        ).build()

    assert_error(update(c, ticket_id, with_credential(other), comment="elsewhere"), *FORBIDDEN)
    ok(update(c, ticket_id, with_credential(party), comment="here"))
    assert get_ticket(c, party, ticket_id).comments.content == "here"


def test_a_revoked_user_token_is_refused(server):
    party = server.new_party("Revoked")
    c = sdk(server, party)
    agent = server.agent(party, "Ines")
    ticket_id = new_ticket(c, party, server.user(party, "Ivo Guest"), [agent])
    ok(update(c, ticket_id, as_agent(agent), comment="before"))
    server.admin("app", "revoke-tokens", "--app", party.app_id)
    assert_refused(update(c, ticket_id, as_agent(agent), comment="after"), 400, 99991668)


def test_a_closed_ticket_refuses_a_message_until_it_is_reopened(desk):
    c, party, alice = desk["c"], desk["party"], desk["alice"]
    ticket_id = new_ticket(c, party, desk["guest"], [alice])
    ok(update(c, ticket_id, as_agent(alice), status=51))
    resp = post_text(c, party, ticket_id, "anyone there?")
    assert_error(resp, *BAD_REQUEST)
    assert "reopen" in hint(resp)
    ok(update(c, ticket_id, as_agent(alice), status=2))
    assert ok(post_text(c, party, ticket_id, "anyone there?")).message_id


def test_an_agent_cannot_update_a_ticket_of_another_helpdesk(server, desk):
    c, party = desk["c"], desk["party"]
    ticket_id = new_ticket(c, party, desk["guest"], [desk["alice"]])
    other = server.new_party("Elsewhere")
    stranger = server.agent(other, "Stranger")
    assert_error(update(sdk(server, other), ticket_id, as_agent(stranger), status=2), *NOT_FOUND)
    assert_error(update(c, "7000000000000000000", as_agent(desk["alice"]), status=2), *NOT_FOUND)


# --- ticket customized fields --------------------------------------------------


@pytest.fixture(scope="module")
def fields(server):
    """Three fields of a helpdesk of its own (the third not visible)."""
    party = server.new_party("Fields")
    c = sdk(server, party)
    alice = server.agent(party, "Alice")
    ids = {
        "summary": new_field(c, party, alice, field("summary", position="1", description="one line")),
        "details": new_field(c, party, alice, field("details", "multiline", position="2")),
        "tier": new_field(c, party, alice, field("tier", "dropdown", position="3", visible=False, options=["gold", "silver"])),
    }
    return {"c": c, "party": party, "alice": alice, "ids": ids}


def test_custom_fields_list_in_pages_of_two_by_page_token(fields):
    c, party = fields["c"], fields["party"]
    first = list_fields(c, party, page_size=2)
    assert len(first.items) == 2 and first.has_more is True and first.next_page_token
    second = list_fields(c, party, page_size=2, page_token=first.next_page_token)
    assert len(second.items) == 1 and not second.has_more
    got = [f.key_name for f in first.items + second.items]
    assert sorted(got) == ["details", "summary", "tier"]
    assert {f.ticket_customized_field_id for f in first.items + second.items} == set(fields["ids"].values())


def test_custom_fields_list_only_the_visible_ones_when_asked(fields):
    c, party = fields["c"], fields["party"]
    assert sorted(f.key_name for f in list_fields(c, party, visible=True).items) == ["details", "summary"]
    assert [f.key_name for f in list_fields(c, party, visible=False).items] == ["tier"]
    visible = CustomizedFieldsTicketRequest.builder().visible_only(True).build()
    every = CustomizedFieldsTicketRequest.builder().visible_only(False).build()
    shown = ok(c.helpdesk.v1.ticket.customized_fields(visible, helpdesk(party))).ticket_customized_fields
    all_ = ok(c.helpdesk.v1.ticket.customized_fields(every, helpdesk(party))).ticket_customized_fields
    assert sorted(f.key_name for f in shown) == ["details", "summary"]
    assert sorted(f.key_name for f in all_) == ["details", "summary", "tier"]


def test_a_custom_field_reads_back_as_it_was_created(fields):
    c, party, alice = fields["c"], fields["party"], fields["alice"]
    got = ok(get_field(c, party, fields["ids"]["summary"]))
    assert got.ticket_customized_field_id == fields["ids"]["summary"]
    assert (got.helpdesk_id, got.key_name, got.display_name, got.field_type) == (party.helpdesk_id, "summary", "Summary", "string")
    assert (got.position, got.description, got.visible, got.editable, got.required) == ("1", "one line", True, True, False)
    assert got.created_by.id == alice["agent_id"] and got.updated_by.id == alice["agent_id"]
    assert got.created_at.isdigit() and int(got.created_at) > 1_000_000_000_000  # ms, as a string
    tier = ok(get_field(c, party, fields["ids"]["tier"]))
    assert (tier.field_type, tier.visible, tier.dropdown_allow_multiple) == ("dropdown", False, False)


def test_a_second_custom_field_with_the_same_key_name_is_refused(fields):
    resp = create_field(fields["c"], fields["alice"], field("summary", position="9"))
    assert_error(resp, *BAD_REQUEST)


def test_a_patched_custom_field_reads_back_with_its_new_values(server, fields):
    c, party, alice = fields["c"], fields["party"], fields["alice"]
    bob = server.agent(party, "Bob")
    patch = TicketCustomizedField.builder().display_name("Details please").description("all of it").required(True).build()
    req = PatchTicketCustomizedFieldRequest.builder().ticket_customized_field_id(fields["ids"]["details"]).request_body(patch).build()
    ok(c.helpdesk.v1.ticket_customized_field.patch(req, as_agent(bob)))
    got = ok(get_field(c, party, fields["ids"]["details"]))
    assert (got.display_name, got.description, got.required) == ("Details please", "all of it", True)
    assert (got.key_name, got.field_type, got.position) == ("details", "multiline", "2")
    assert got.created_by.id == alice["agent_id"] and got.updated_by.id == bob["agent_id"]
    assert int(got.updated_at) >= int(got.created_at)


def test_a_deleted_custom_field_is_not_found_and_leaves_the_list(fields):
    c, party, alice = fields["c"], fields["party"], fields["alice"]
    doomed = new_field(c, party, alice, field("doomed", position="4"))
    req = DeleteTicketCustomizedFieldRequest.builder().ticket_customized_field_id(doomed).build()
    ok(c.helpdesk.v1.ticket_customized_field.delete(req, as_agent(alice)))
    assert_error(get_field(c, party, doomed), *NOT_FOUND)
    assert "doomed" not in all_fields(c, party)
    assert_error(c.helpdesk.v1.ticket_customized_field.delete(req, as_agent(alice)), *NOT_FOUND)


# --- answer_user_query ---------------------------------------------------------


def answer_user_query(c, party, ticket_id):
    faq = UserQueryFaqInfo.builder().id("faq_reset_password").score(0.92).build()
    body = AnswerUserQueryTicketRequestBody.builder().event_id("ev_conformance").faqs([faq]).build()
    req = AnswerUserQueryTicketRequest.builder().ticket_id(ticket_id).request_body(body).build()
    return c.helpdesk.v1.ticket.answer_user_query(req, helpdesk(party))


def test_answer_user_query_is_taken_for_an_own_ticket_and_not_found_for_another_tenants(server, desk):
    c, party = desk["c"], desk["party"]
    own = new_ticket(c, party, desk["guest"], [desk["alice"]])
    ok(answer_user_query(c, party, own))
    other = server.new_party("Stranger")
    foreign = new_ticket(sdk(server, other), other, server.user(other, "Their Guest"))
    assert_error(answer_user_query(c, party, foreign), *NOT_FOUND)


# --- start_service with appointed agents ---------------------------------------


def test_start_service_puts_the_appointed_agent_on_the_ticket(desk):
    c, party, bob = desk["c"], desk["party"], desk["bob"]
    ticket = get_ticket(c, party, new_ticket(c, party, desk["guest"], [bob]))
    assert [a.id for a in ticket.agents] == [bob["agent_id"]]
    assert ticket.agent_owner.id == bob["agent_id"] and ticket.ticket_type == 2


def test_start_service_refuses_an_appointed_id_that_is_no_agent_of_the_helpdesk(server, desk):
    c, party = desk["c"], desk["party"]
    outsider = server.agent(server.new_party("Outside"), "Outsider")["agent_id"]
    for not_an_agent in (desk["guest"], outsider):
        resp = start_service(c, party, desk["guest"], [not_an_agent])
        assert_error(resp, *BAD_REQUEST)
        assert not_an_agent in hint(resp)


def test_a_new_guest_becomes_a_user_named_after_the_end_of_its_open_id(desk):
    c, party = desk["c"], desk["party"]
    ticket = get_ticket(c, party, new_ticket(c, party, "ou_conformance_walkin_ab12cd"))
    assert (ticket.guest.id, ticket.guest.name) == ("ou_conformance_walkin_ab12cd", "Guest ab12cd")
    # With human_service and no agent named, the helpdesk's first enabled agent.
    assert [a.id for a in ticket.agents] == [desk["alice"]["agent_id"]]


def test_start_service_refuses_a_disabled_agent(server, desk):
    c, party = desk["c"], desk["party"]
    dora = server.agent(party, "Dora")
    server.admin("agent", "disable", "--agent", dora["agent_id"])
    assert_error(start_service(c, party, desk["guest"], [dora]), *BAD_REQUEST)


# --- helpdesk.ticket.updated_v1 ------------------------------------------------


class UpdateReceiver:
    """lark-oapi's EventDispatcherHandler, with only the ticket-updated
    handler registered, behind http.server as an app would run it."""

    def __init__(self):
        self.events = []
        self.dispatcher = (
            lark.EventDispatcherHandler.builder(ENCRYPT_KEY, VERIFICATION_TOKEN)
            .register_p2_helpdesk_ticket_updated_v1(self.events.append)
            .build()
        )
        dispatcher = self.dispatcher

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                req = RawRequest()
                req.uri = self.path
                req.headers = dict(self.headers.items())
                req.body = self.rfile.read(int(self.headers["Content-Length"]))
                resp = dispatcher.do(req)
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

    def wait_for(self, count, seconds=15):
        deadline = time.time() + seconds
        while len(self.events) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.events

    def stop(self):
        self.httpd.shutdown()


def test_the_updated_event_carries_the_status_before_and_after(server):
    party = server.new_party("Events")
    c = sdk(server, party)
    alice = server.agent(party, "Alice")
    guest = server.user(party, "Hana Guest")
    receiver = UpdateReceiver()
    try:
        out = server.admin(
            "app", "events", "--app", party.app_id, "--url", receiver.url,
            "--encrypt-key", ENCRYPT_KEY, "--verification-token", VERIFICATION_TOKEN,
        )
        assert out["encrypted"] is True
        events = [Event.builder().type("helpdesk.ticket").subtype("ticket.updated_v1").build()]
        req = SubscribeEventRequest.builder().request_body(SubscribeEventRequestBody.builder().events(events).build()).build()
        ok(c.helpdesk.v1.event.subscribe(req, helpdesk(party)))

        ticket_id = new_ticket(c, party, guest, [alice])
        before = get_ticket(c, party, ticket_id).status
        ok(update(c, ticket_id, as_agent(alice), status=50))
        ok(update(c, ticket_id, as_agent(alice), status=2))

        got = receiver.wait_for(2)
        assert len(got) == 2
        closed, reopened = got
        assert closed.header.event_type == "helpdesk.ticket.updated_v1"
        assert closed.header.app_id == party.app_id and closed.header.tenant_key == party.tenant_key
        assert closed.event.object.ticket_id == ticket_id
        assert closed.event.object.helpdesk_id == party.helpdesk_id
        assert (closed.event.old_object.status, closed.event.object.status) == (before, 50)
        assert closed.event.old_object.stage == closed.event.object.stage == 2  # human
        assert closed.event.old_object.updated_at <= closed.event.object.updated_at
        assert closed.event.object.closed_by.id.open_id == alice["agent_id"]
        assert closed.event.object.closed_at > 0
        assert closed.event.object.guest.id.open_id == guest
        assert [a.id.open_id for a in closed.event.object.agents] == [alice["agent_id"]]
        assert (reopened.event.old_object.status, reopened.event.object.status) == (50, 2)
        assert reopened.event.object.closed_by is None and reopened.event.object.closed_at == 0
        assert closed.header.event_id != reopened.header.event_id
    finally:
        server.admin("app", "events", "--app", party.app_id, "--url", "")
        receiver.stop()
