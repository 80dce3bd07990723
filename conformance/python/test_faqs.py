"""FAQ categories, FAQs with images in their rich-text answers, FAQ search,
the FAQ image download, im/v1 image get and the bot message, with the
official Python SDK (lark-oapi) through its typed API only.

Writes (category and FAQ create/patch/delete) go as an agent with its user
access token; reads go with the app's tenant token and the helpdesk header.
Each fixture that counts what a helpdesk holds runs on a tenant of its own
(server.new_party)."""

import base64
import json

import lark_oapi as lark
import pytest
from lark_oapi.api.helpdesk.v1 import (
    BotMessage,
    Category,
    CreateBotMessageRequest,
    CreateCategoryRequest,
    CreateFaqRequest,
    CreateFaqRequestBody,
    DeleteCategoryRequest,
    DeleteFaqRequest,
    FaqCreateInfo,
    FaqImageFaqRequest,
    FaqUpdateInfo,
    GetCategoryRequest,
    GetFaqRequest,
    ListCategoryRequest,
    ListFaqRequest,
    PatchCategoryRequest,
    PatchFaqRequest,
    PatchFaqRequestBody,
    Richtext,
    SearchFaqRequest,
)
from lark_oapi.api.helpdesk.v1 import Faq as FaqModel
from lark_oapi.api.im.v1 import GetImageRequest
from lark_oapi.core.token.manager import TokenManager

from conftest import LOG_ID
from test_sdk import IMAGES, BAD_REQUEST, NOT_FOUND, assert_error, helpdesk, image, list_messages, upload
from test_tickets import TENANT_TOKEN_REFUSED, USER_TOKEN_REFUSED, as_agent, hint, sdk, start_service, update

IMAGE_DELETED = (401, 154404, "Image might be deleted")
FAR_AWAY_ID = "7000000000000000000"
TOP = ("", "0")  # a top-level category's parent_id (the wire takes either)


# --- the SDK calls, one helper each -----------------------------------------


def ok(resp):
    """The response's data; on failure the whole answer, raw body included."""
    assert resp.success(), (resp.raw.status_code, resp.code, resp.msg, resp.raw.content[:2000])
    return getattr(resp, "data", None)


def assert_typed(model, path="data"):
    """Every value the SDK decoded has the type the SDK's model declares
    (lark-oapi only checks lists and objects itself)."""
    for name, t in getattr(model, "_types", {}).items():
        value = getattr(model, name, None)
        if value is None:
            continue
        where = f"{path}.{name}"
        if t in (str, int, bool, float):
            assert type(value) is t, f"{where} is {type(value).__name__} {value!r}, the SDK declares {t.__name__}"
        elif getattr(t, "_name", None) == "List":
            (sub,) = t.__args__
            for i, item in enumerate(value):
                if sub in (str, int, bool, float):
                    assert type(item) is sub, f"{where}[{i}] is {type(item).__name__} {item!r}, the SDK declares {sub.__name__}"
                else:
                    assert_typed(item, f"{where}[{i}]")
        elif isinstance(t, type) and hasattr(t, "_types"):
            assert_typed(value, where)


def category(name=None, parent_id=None, language=None) -> Category:
    b = Category.builder()
    for attr, value in (("name", name), ("parent_id", parent_id), ("language", language)):
        if value is not None:
            b = getattr(b, attr)(value)
    return b.build()


def create_category(c, agent, name, parent_id=None, language=None):
    req = CreateCategoryRequest.builder().request_body(category(name, parent_id, language)).build()
    return c.helpdesk.v1.category.create(req, as_agent(agent))


def new_category(c, agent, name, parent_id=None, language=None) -> Category:
    created = ok(create_category(c, agent, name, parent_id, language)).category
    assert_typed(created, "category")
    return created


def get_category(c, party, category_id):
    return c.helpdesk.v1.category.get(GetCategoryRequest.builder().id(category_id).build(), helpdesk(party))


def list_categories(c, party, **query) -> list:
    b = ListCategoryRequest.builder()
    for name, value in query.items():
        b = getattr(b, name)(value)
    data = ok(c.helpdesk.v1.category.list(b.build(), helpdesk(party)))
    assert_typed(data)
    return data.categories or []


def patch_category(c, agent, category_id, **fields):
    req = PatchCategoryRequest.builder().id(category_id).request_body(category(**fields)).build()
    return c.helpdesk.v1.category.patch(req, as_agent(agent))


def delete_category(c, agent, category_id):
    return c.helpdesk.v1.category.delete(DeleteCategoryRequest.builder().id(category_id).build(), as_agent(agent))


def richtext(*elements) -> list:
    """Rich text as the SDK's Richtext models: richtext(("text", "hi"), ("image", key))."""
    return [Richtext.builder().type(t).content(content).build() for t, content in elements]


def richtext_json(*elements) -> str:
    """Rich text as FaqCreateInfo types it: a string holding the JSON array."""
    return json.dumps([{"type": t, "content": content} for t, content in elements], ensure_ascii=False)


def create_faq(c, option, question, category_id=None, answer=None, answer_richtext=None, tags=None):
    b = FaqCreateInfo.builder().question(question)
    for attr, value in (("category_id", category_id), ("answer", answer), ("answer_richtext", answer_richtext), ("tags", tags)):
        if value is not None:
            b = getattr(b, attr)(value)
    req = CreateFaqRequest.builder().request_body(CreateFaqRequestBody.builder().faq(b.build()).build()).build()
    return c.helpdesk.v1.faq.create(req, option)


def new_faq(c, agent, question, **fields) -> FaqModel:
    faq = ok(create_faq(c, as_agent(agent), question, **fields)).faq
    assert_typed(faq, "faq")
    return faq


def get_faq(c, party, faq_id):
    return c.helpdesk.v1.faq.get(GetFaqRequest.builder().id(faq_id).build(), helpdesk(party))


def read_faq(c, party, faq_id) -> FaqModel:
    faq = ok(get_faq(c, party, faq_id)).faq
    assert_typed(faq, "faq")
    return faq


def list_faqs(c, party, **query):
    b = ListFaqRequest.builder()
    for name, value in query.items():
        b = getattr(b, name)(value)
    resp = c.helpdesk.v1.faq.list(b.build(), helpdesk(party))
    data = ok(resp)
    assert_typed(data)
    return data


def listed_faq_ids(c, party, **query) -> list:
    return [f.faq_id for f in list_faqs(c, party, page_size=100, **query).items or []]


def patch_faq(c, agent, faq_id, **fields):
    b = FaqUpdateInfo.builder()
    for name, value in fields.items():
        b = getattr(b, name)(value)
    body = PatchFaqRequestBody.builder().faq(b.build()).build()
    return c.helpdesk.v1.faq.patch(PatchFaqRequest.builder().id(faq_id).request_body(body).build(), as_agent(agent))


def delete_faq(c, agent, faq_id):
    return c.helpdesk.v1.faq.delete(DeleteFaqRequest.builder().id(faq_id).build(), as_agent(agent))


def search(c, party, query, b64=False, **paging):
    b = SearchFaqRequest.builder()
    if b64:
        b = b.query(base64.b64encode(query.encode()).decode()).base64("true")
    else:
        b = b.query(query)
    for name, value in paging.items():
        b = getattr(b, name)(value)
    return c.helpdesk.v1.faq.search(b.build(), helpdesk(party))


def found_ids(c, party, query, b64=False) -> list:
    data = ok(search(c, party, query, b64))
    assert_typed(data)
    return [f.faq_id for f in data.items or []]


def faq_image(c, party, faq_id, image_key):
    req = FaqImageFaqRequest.builder().id(faq_id).image_key(image_key).build()
    return c.helpdesk.v1.faq.faq_image(req, helpdesk(party))


def im_image(c, image_key):
    return c.im.v1.image.get(GetImageRequest.builder().image_key(image_key).build())


def bot_message(c, party, receiver_id, msg_type, content, receive_type=None):
    b = BotMessage.builder().msg_type(msg_type).content(json.dumps(content)).receiver_id(receiver_id)
    if receive_type is not None:
        b = b.receive_type(receive_type)
    req = CreateBotMessageRequest.builder().user_id_type("open_id").request_body(b.build()).build()
    return c.helpdesk.v1.bot_message.create(req, helpdesk(party))


def assert_im_error(resp, status, code):
    assert not resp.success()
    assert (resp.raw.status_code, resp.code) == (status, code), (resp.msg, resp.raw.content[:500])


def assert_bad_request_naming(resp, *words):
    assert_error(resp, *BAD_REQUEST)
    for word in words:
        assert word in hint(resp), (word, hint(resp))


# --- categories ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shelf(server):
    """A helpdesk of its own with one agent and no category yet."""
    party = server.new_party("Categories")
    return {"c": sdk(server, party), "party": party, "alice": server.agent(party, "Alice")}


def test_a_category_created_under_a_parent_reads_back_with_its_parent_and_helpdesk(shelf):
    c, party, alice = shelf["c"], shelf["party"], shelf["alice"]
    parent = new_category(c, alice, "账户与登录")
    child = new_category(c, alice, "密码", parent_id=parent.category_id)
    assert parent.category_id and parent.id == parent.category_id
    assert (parent.name, parent.helpdesk_id, parent.language) == ("账户与登录", party.helpdesk_id, "zh_cn")
    assert parent.parent_id in TOP
    assert (child.name, child.parent_id, child.helpdesk_id) == ("密码", parent.category_id, party.helpdesk_id)

    got = ok(get_category(c, party, child.category_id))
    assert_typed(got)
    assert (got.category_id, got.id, got.name, got.helpdesk_id, got.language) == (
        child.category_id, child.category_id, "密码", party.helpdesk_id, "zh_cn",
    )
    listed = {x.category_id: x for x in list_categories(c, party, lang="zh_cn")}
    assert listed[child.category_id].parent_id == parent.category_id
    assert listed[parent.category_id].parent_id in TOP


def test_categories_list_by_language_by_name_or_creation_in_either_direction(server):
    party = server.new_party("Category order")
    c, alice = sdk(server, party), server.agent(party, "Alice")
    for name in ("Billing", "Accounts", "Zeta"):
        new_category(c, alice, name, language="en_us")
    new_category(c, alice, "发票", language="zh_cn")

    def names(**query):
        return [x.name for x in list_categories(c, party, **query)]

    assert names(lang="en_us", order_by=2, asc=True) == ["Accounts", "Billing", "Zeta"]
    assert names(lang="en_us", order_by=2, asc=False) == ["Zeta", "Billing", "Accounts"]
    assert names(lang="en_us", order_by=1, asc=True) == ["Billing", "Accounts", "Zeta"]
    assert names(lang="en_us", order_by=1, asc=False) == ["Zeta", "Accounts", "Billing"]
    assert names(lang="zh_cn") == ["发票"]
    assert all(x.language == "en_us" for x in list_categories(c, party, lang="en_us"))


def test_a_patched_category_reads_back_renamed_and_under_its_new_parent(shelf):
    c, party, alice = shelf["c"], shelf["party"], shelf["alice"]
    first, second = new_category(c, alice, "Hardware"), new_category(c, alice, "Devices")
    leaf = new_category(c, alice, "Printers", parent_id=first.category_id)
    ok(patch_category(c, alice, leaf.category_id, name="Printers and scanners", parent_id=second.category_id))
    assert ok(get_category(c, party, leaf.category_id)).name == "Printers and scanners"
    listed = {x.category_id: x for x in list_categories(c, party, lang="zh_cn")}
    assert listed[leaf.category_id].parent_id == second.category_id
    assert listed[leaf.category_id].name == "Printers and scanners"
    # Back to the top.
    ok(patch_category(c, alice, leaf.category_id, parent_id="0"))
    listed = {x.category_id: x for x in list_categories(c, party, lang="zh_cn")}
    assert listed[leaf.category_id].parent_id in TOP


def test_a_category_with_sub_categories_is_not_deleted_and_a_deleted_one_is_not_found(shelf):
    c, party, alice = shelf["c"], shelf["party"], shelf["alice"]
    parent = new_category(c, alice, "Doomed parent")
    child = new_category(c, alice, "Doomed child", parent_id=parent.category_id)
    assert_error(delete_category(c, alice, parent.category_id), *BAD_REQUEST)
    assert ok(get_category(c, party, parent.category_id)).name == "Doomed parent"

    ok(delete_category(c, alice, child.category_id))
    assert_error(get_category(c, party, child.category_id), *NOT_FOUND)
    ok(delete_category(c, alice, parent.category_id))
    assert_error(get_category(c, party, parent.category_id), *NOT_FOUND)
    ids = {x.category_id for x in list_categories(c, party, lang="zh_cn")}
    assert parent.category_id not in ids and child.category_id not in ids
    assert_error(delete_category(c, alice, parent.category_id), *NOT_FOUND)


def test_a_parent_of_another_helpdesk_is_refused_and_its_category_is_not_found(server, shelf):
    c, party, alice = shelf["c"], shelf["party"], shelf["alice"]
    other = server.new_party("Other shelf")
    oc, stranger = sdk(server, other), server.agent(other, "Stranger")
    theirs = new_category(oc, stranger, "Theirs")
    before = {x.category_id for x in list_categories(c, party, lang="zh_cn")}

    assert_error(create_category(c, alice, "Mine", parent_id=theirs.category_id), *BAD_REQUEST)
    assert_error(create_category(c, alice, "Mine", parent_id=FAR_AWAY_ID), *BAD_REQUEST)
    mine = new_category(c, alice, "Mine")
    assert_error(patch_category(c, alice, mine.category_id, parent_id=theirs.category_id), *BAD_REQUEST)
    assert {x.category_id for x in list_categories(c, party, lang="zh_cn")} == before | {mine.category_id}

    # Their category is not ours to read, change or delete.
    assert_error(get_category(c, party, theirs.category_id), *NOT_FOUND)
    assert_error(patch_category(c, alice, theirs.category_id, name="Ours now"), *NOT_FOUND)
    assert_error(delete_category(c, alice, theirs.category_id), *NOT_FOUND)
    assert ok(get_category(oc, other, theirs.category_id)).name == "Theirs"


def test_a_category_cannot_be_moved_under_itself_or_under_its_own_child(shelf):
    c, party, alice = shelf["c"], shelf["party"], shelf["alice"]
    top = new_category(c, alice, "Top")
    mid = new_category(c, alice, "Mid", parent_id=top.category_id)
    low = new_category(c, alice, "Low", parent_id=mid.category_id)
    assert_error(patch_category(c, alice, top.category_id, parent_id=top.category_id), *BAD_REQUEST)
    assert_error(patch_category(c, alice, top.category_id, parent_id=mid.category_id), *BAD_REQUEST)
    assert_error(patch_category(c, alice, top.category_id, parent_id=low.category_id), *BAD_REQUEST)
    listed = {x.category_id: x.parent_id for x in list_categories(c, party, lang="zh_cn")}
    assert listed[top.category_id] in TOP
    assert (listed[mid.category_id], listed[low.category_id]) == (top.category_id, mid.category_id)


# --- FAQs ----------------------------------------------------------------------

LOGIN_QUESTION = "无法登录系统怎么办？"
EXPORT_QUESTION = "How do I export an invoice?"


@pytest.fixture(scope="module")
def kb(server):
    """A helpdesk of its own with two categories and two FAQs made by Alice:
    a Chinese one whose answer holds an uploaded image, and an English one."""
    party = server.new_party("Knowledge base")
    c = sdk(server, party)
    alice = server.agent(party, "Alice")
    accounts = new_category(c, alice, "账户")
    billing = new_category(c, alice, "Billing", language="en_us")
    key = upload(c, IMAGES[0])
    spare_key = upload(c, IMAGES[1])  # uploaded, held by no FAQ
    login = new_faq(
        c, alice, LOGIN_QUESTION, category_id=accounts.category_id, tags=["login", "password"],
        answer_richtext=richtext_json(("text", "请先重置密码。"), ("image", key), ("line_break", ""), ("text", "仍然不行请联系管理员")),
    )
    export = new_faq(c, alice, EXPORT_QUESTION, category_id=billing.category_id, answer="Open Billing, pick the month and press Export.")
    return {
        "c": c, "party": party, "alice": alice, "accounts": accounts, "billing": billing,
        "key": key, "spare_key": spare_key, "login": login, "export": export,
    }


def test_a_faq_created_with_an_uploaded_image_reads_back_as_the_sdks_typed_model(kb):
    c, party, alice, created = kb["c"], kb["party"], kb["alice"], kb["login"]
    assert created.faq_id and created.id == created.faq_id
    faq = read_faq(c, party, created.faq_id)
    assert (faq.faq_id, faq.helpdesk_id, faq.question) == (created.faq_id, party.helpdesk_id, LOGIN_QUESTION)
    assert all(isinstance(r, Richtext) for r in faq.answer_richtext)
    assert [(r.type, r.content) for r in faq.answer_richtext] == [
        ("text", "请先重置密码。"), ("image", kb["key"]), ("line_break", ""), ("text", "仍然不行请联系管理员"),
    ]
    # answer defaults to the text of the rich text.
    assert "请先重置密码。" in faq.answer and "仍然不行请联系管理员" in faq.answer and kb["key"] not in faq.answer
    assert [(x.category_id, x.name) for x in faq.categories] == [(kb["accounts"].category_id, "账户")]
    assert faq.tags == ["login", "password"]
    assert (faq.create_user.id, faq.create_user.name) == (alice["agent_id"], "Alice")
    assert faq.update_user.id == alice["agent_id"]
    assert faq.create_time > 1_000_000_000_000 and faq.update_time >= faq.create_time  # milliseconds
    assert faq.expire_time == 0
    # The create answer is the same FAQ.
    assert [(r.type, r.content) for r in created.answer_richtext] == [(r.type, r.content) for r in faq.answer_richtext]
    assert created.create_time == faq.create_time


def test_an_answer_given_as_text_only_is_kept_as_given(kb):
    faq = read_faq(kb["c"], kb["party"], kb["export"].faq_id)
    assert faq.answer == "Open Billing, pick the month and press Export."
    assert [x.category_id for x in faq.categories] == [kb["billing"].category_id]


def test_faqs_list_by_category_in_creation_order_page_by_page_token(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    shelf = new_category(c, alice, "Paging")
    made = [new_faq(c, alice, f"Paging question {i}", category_id=shelf.category_id, answer=f"answer {i}").faq_id for i in range(5)]

    first = list_faqs(c, party, category_id=shelf.category_id, page_size=2)
    assert [f.faq_id for f in first.items] == made[:2]
    assert first.has_more is True and first.page_token and first.total == 5 and first.page_size == 2
    second = list_faqs(c, party, category_id=shelf.category_id, page_size=2, page_token=first.page_token)
    assert [f.faq_id for f in second.items] == made[2:4] and second.has_more is True
    third = list_faqs(c, party, category_id=shelf.category_id, page_size=2, page_token=second.page_token)
    assert [f.faq_id for f in third.items] == made[4:] and not third.has_more

    # Another category's FAQs are not in it; the whole helpdesk lists all.
    assert listed_faq_ids(c, party, category_id=kb["accounts"].category_id) == [kb["login"].faq_id]
    everything = listed_faq_ids(c, party)
    assert set(made) | {kb["login"].faq_id, kb["export"].faq_id} <= set(everything)
    assert everything.index(kb["login"].faq_id) < everything.index(kb["export"].faq_id) < everything.index(made[0])


def test_a_patched_faq_reads_back_with_its_new_rich_text_given_as_an_array(server, kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    bob = server.agent(party, "Bob")
    old_key, new_key = upload(c, IMAGES[2]), upload(c, IMAGES[3])
    faq = new_faq(c, alice, "How do I print a report?", category_id=kb["accounts"].category_id,
                  answer_richtext=richtext_json(("text", "Press print."), ("image", old_key)))
    assert faq_image(c, party, faq.faq_id, old_key).file.read() == IMAGES[2]
    ok(patch_faq(
        c, bob, faq.faq_id, question="How do I print a monthly report?", category_id=kb["billing"].category_id,
        answer_richtext=richtext(("text", "Open Reports, then press Print."), ("hyperlink", "https://example.com/print"), ("image", new_key)),
        tags=["reports"],
    ))
    got = read_faq(c, party, faq.faq_id)
    assert got.question == "How do I print a monthly report?"
    assert [(r.type, r.content) for r in got.answer_richtext] == [
        ("text", "Open Reports, then press Print."), ("hyperlink", "https://example.com/print"), ("image", new_key),
    ]
    assert [x.category_id for x in got.categories] == [kb["billing"].category_id]
    assert got.tags == ["reports"]
    assert got.create_user.id == alice["agent_id"] and got.update_user.id == bob["agent_id"]
    assert got.update_time > got.create_time
    # The new image is the FAQ's; the one it no longer holds is not.
    resp = faq_image(c, party, faq.faq_id, new_key)
    assert ok(resp) is None and resp.file.read() == IMAGES[3]
    assert_error(faq_image(c, party, faq.faq_id, old_key), *NOT_FOUND)


def test_an_image_patched_out_of_a_faq_is_still_its_uploaders_and_can_be_put_back(kb):
    """Nothing but `admin image delete` deletes an upload (faq-wire: im image
    get answers 234005 only then): an agent who takes an image out of an
    answer and puts it back finds it as before."""
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    key = upload(c, IMAGES[0])
    faq = new_faq(c, alice, "Where is the settings page?", answer_richtext=richtext_json(("text", "See:"), ("image", key)))
    ok(patch_faq(c, alice, faq.faq_id, answer_richtext=richtext(("text", "Open the menu, then Settings."))))
    assert_error(faq_image(c, party, faq.faq_id, key), *NOT_FOUND)
    got = im_image(c, key)
    assert got.success(), (got.raw.status_code, got.code, got.msg, hint(got))
    assert got.file.read() == IMAGES[0]
    ok(patch_faq(c, alice, faq.faq_id, answer_richtext=richtext(("text", "See:"), ("image", key))))
    assert faq_image(c, party, faq.faq_id, key).file.read() == IMAGES[0]


def test_a_faq_deleted_once_is_listed_as_deleted_and_back_online_when_patched(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    faq = new_faq(c, alice, "A question to take offline", answer="soon gone")
    ok(delete_faq(c, alice, faq.faq_id))
    assert read_faq(c, party, faq.faq_id).question == "A question to take offline"
    assert faq.faq_id not in listed_faq_ids(c, party)
    assert faq.faq_id in listed_faq_ids(c, party, status="0")
    assert faq.faq_id not in found_ids(c, party, "offline")
    ok(patch_faq(c, alice, faq.faq_id, answer="back again"))
    assert faq.faq_id in listed_faq_ids(c, party)
    assert faq.faq_id not in listed_faq_ids(c, party, status="0")
    assert read_faq(c, party, faq.faq_id).answer == "back again"


def test_a_faq_deleted_twice_is_gone_for_good_with_its_images(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    key = upload(c, IMAGES[1])
    faq = new_faq(c, alice, "A question to forget", answer_richtext=richtext_json(("image", key)))
    assert faq_image(c, party, faq.faq_id, key).file.read() == IMAGES[1]
    ok(delete_faq(c, alice, faq.faq_id))
    assert faq.faq_id in listed_faq_ids(c, party, status="0")
    assert faq_image(c, party, faq.faq_id, key).file.read() == IMAGES[1]  # still recoverable
    ok(delete_faq(c, alice, faq.faq_id))
    assert_error(get_faq(c, party, faq.faq_id), *NOT_FOUND)
    assert_error(faq_image(c, party, faq.faq_id, key), *NOT_FOUND)
    for status in ("0", "1"):
        assert faq.faq_id not in listed_faq_ids(c, party, status=status)
    assert faq.faq_id not in found_ids(c, party, "forget")
    assert_error(delete_faq(c, alice, faq.faq_id), *NOT_FOUND)
    assert_error(patch_faq(c, alice, faq.faq_id, answer="resurrected?"), *NOT_FOUND)
    # The image went with it (README): its uploader's im get answers it deleted.
    assert_im_error(im_image(c, key), 400, 234005)


def test_a_final_delete_leaves_an_image_another_faq_still_holds(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    key = upload(c, IMAGES[2])
    doomed = new_faq(c, alice, "Doomed holder", answer_richtext=richtext_json(("image", key)))
    keeper = new_faq(c, alice, "Keeping holder", answer_richtext=richtext_json(("text", "see"), ("image", key)))
    ok(delete_faq(c, alice, doomed.faq_id))
    ok(delete_faq(c, alice, doomed.faq_id))
    assert faq_image(c, party, keeper.faq_id, key).file.read() == IMAGES[2]
    assert im_image(c, key).file.read() == IMAGES[2]


def test_search_finds_a_chinese_question_by_a_part_of_it_in_plain_text_and_in_base64(kb):
    c, party = kb["c"], kb["party"]
    login = kb["login"].faq_id
    assert found_ids(c, party, "登录") == [login]
    assert found_ids(c, party, "登录", b64=True) == [login]
    assert found_ids(c, party, "重置密码") == [login]  # a part of the answer
    assert found_ids(c, party, "登") == [login]
    # URL-safe base64 is taken as well.
    data = ok(c.helpdesk.v1.faq.search(
        SearchFaqRequest.builder().query(base64.urlsafe_b64encode("登录".encode()).decode()).base64("true").build(), helpdesk(party)
    ))
    assert [f.faq_id for f in data.items] == [login]
    hit = data.items[0]
    assert_typed(hit, "items[0]")
    assert hit.question == LOGIN_QUESTION and hit.answer_richtext[1].content == kb["key"]


def test_search_finds_an_english_faq_when_every_word_matches_and_not_the_other(kb):
    c, party = kb["c"], kb["party"]
    export = kb["export"].faq_id
    assert found_ids(c, party, "export invoice") == [export]
    assert found_ids(c, party, "Invoice") == [export]
    assert found_ids(c, party, "export invoice", b64=True) == [export]
    assert found_ids(c, party, "export 登录") == []  # every word must match
    assert found_ids(c, party, "refund") == []
    assert kb["login"].faq_id not in found_ids(c, party, "export")


def test_search_refuses_an_empty_query(kb):
    assert_error(search(kb["c"], kb["party"], "   "), *BAD_REQUEST)
    assert_error(search(kb["c"], kb["party"], ""), *BAD_REQUEST)


def test_search_pages_by_page_token(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    made = [new_faq(c, alice, f"Zebra crossing {i}", answer="stripes").faq_id for i in range(3)]
    first = ok(search(c, party, "zebra", page_size=2))
    assert len(first.items) == 2 and first.has_more is True and first.page_token
    second = ok(search(c, party, "zebra", page_size=2, page_token=first.page_token))
    assert len(second.items) == 1 and not second.has_more
    assert sorted(f.faq_id for f in first.items + second.items) == sorted(made)


def test_another_tenant_neither_reads_nor_finds_nor_changes_the_faqs(server, kb):
    other = server.new_party("Outsiders")
    oc, stranger = sdk(server, other), server.agent(other, "Stranger")
    login = kb["login"].faq_id
    assert_error(get_faq(oc, other, login), *NOT_FOUND)
    assert found_ids(oc, other, "登录") == []
    assert login not in listed_faq_ids(oc, other)
    assert_error(patch_faq(oc, stranger, login, answer="hijacked"), *NOT_FOUND)
    assert_error(delete_faq(oc, stranger, login), *NOT_FOUND)
    assert read_faq(kb["c"], kb["party"], login).question == LOGIN_QUESTION


# --- faq_image -----------------------------------------------------------------


def test_faq_image_returns_the_uploaded_bytes_with_a_file_name(kb):
    resp = faq_image(kb["c"], kb["party"], kb["login"].faq_id, kb["key"])
    assert ok(resp) is None
    assert resp.file.read() == IMAGES[0]
    assert resp.file_name and resp.file_name.endswith(".png")
    assert resp.raw.headers["Content-Type"] == "image/png"
    assert LOG_ID.match(resp.get_log_id())


def test_faq_image_does_not_serve_a_key_the_faq_does_not_hold(kb):
    c, party = kb["c"], kb["party"]
    assert_error(faq_image(c, party, kb["login"].faq_id, kb["spare_key"]), *NOT_FOUND)
    assert_error(faq_image(c, party, kb["export"].faq_id, kb["key"]), *NOT_FOUND)  # another FAQ's image
    assert_error(faq_image(c, party, kb["login"].faq_id, "img_v3_missing"), *NOT_FOUND)


def test_faq_image_answers_another_tenants_faq_exactly_as_a_missing_one(server, kb):
    other = server.new_party("Image outsiders")
    oc = sdk(server, other)
    foreign = faq_image(oc, other, kb["login"].faq_id, kb["key"])
    missing = faq_image(oc, other, FAR_AWAY_ID, kb["key"])
    assert_error(foreign, *NOT_FOUND)
    assert_error(missing, *NOT_FOUND)
    assert json.loads(foreign.raw.content)["error"].keys() == json.loads(missing.raw.content)["error"].keys()
    # The same answer but for the log_id and the faq id the caller sent.
    def scrubbed(resp, faq_id):
        return resp.raw.content.replace(resp.get_log_id().encode(), b"LOG").replace(faq_id.encode(), b"FAQ")

    assert scrubbed(foreign, kb["login"].faq_id) == scrubbed(missing, FAR_AWAY_ID)


# --- im/v1 image get -----------------------------------------------------------


def test_im_image_get_gives_the_uploading_app_its_bytes(server):
    party = server.new_party("Image owner")
    c = sdk(server, party)
    key = upload(c, IMAGES[2])
    resp = im_image(c, key)
    assert ok(resp) is None
    assert resp.file.read() == IMAGES[2]
    assert resp.file_name and resp.file_name.endswith(".jpg")


def test_im_image_get_refuses_another_app_of_the_same_tenant_and_knows_no_other_tenants_key(server):
    party = server.new_party("Image sharing")
    c = sdk(server, party)
    key = upload(c, IMAGES[3])
    sibling = sdk(server, server.another_app(party))
    resp = im_image(sibling, key)
    assert_im_error(resp, 400, 234008)
    assert resp.msg == "The app is not the resource sender."
    other = server.new_party("Image stranger")
    assert_im_error(im_image(sdk(server, other), key), 400, 234001)
    assert_im_error(im_image(c, "img_v3_missing"), 400, 234001)
    assert im_image(c, key).file.read() == IMAGES[3]


def test_an_image_an_admin_deleted_is_answered_deleted_by_im_and_by_the_faq_holding_it(server):
    party = server.new_party("Image deletion")
    c, alice = sdk(server, party), server.agent(party, "Alice")
    key = upload(c, IMAGES[0])
    faq = new_faq(c, alice, "Where is the logo?", answer_richtext=richtext_json(("image", key)))
    assert im_image(c, key).file.read() == IMAGES[0]
    assert faq_image(c, party, faq.faq_id, key).file.read() == IMAGES[0]
    server.admin("image", "delete", "--key", key)
    assert_im_error(im_image(c, key), 400, 234005)
    assert_error(faq_image(c, party, faq.faq_id, key), *IMAGE_DELETED)


def test_a_sibling_apps_upload_may_go_into_a_faq(server):
    party = server.new_party("Sibling upload")
    c, alice = sdk(server, party), server.agent(party, "Alice")
    sibling = sdk(server, server.another_app(party))
    key = upload(sibling, IMAGES[1])
    faq = new_faq(c, alice, "Sibling image", answer_richtext=richtext_json(("image", key)))
    assert faq_image(c, party, faq.faq_id, key).file.read() == IMAGES[1]


# --- bot message -----------------------------------------------------------------


@pytest.fixture(scope="module")
def chat(server):
    """A ticket of a helpdesk of its own, started through the SDK, with its chat_id."""
    party = server.new_party("Bot messages")
    c = sdk(server, party)
    alice = server.agent(party, "Alice")
    guest = server.user(party, "Gina Guest")
    data = ok(start_service(c, party, guest))
    assert data.chat_id
    return {"c": c, "party": party, "alice": alice, "guest": guest, "ticket_id": data.ticket_id, "chat_id": data.chat_id}


def test_a_bot_image_message_into_a_tickets_chat_is_listed_and_its_image_served(chat):
    c, party, ticket_id = chat["c"], chat["party"], chat["ticket_id"]
    key = upload(c, IMAGES[3])
    text_id = ok(bot_message(c, party, chat["chat_id"], "text", {"text": "Hello from the bot"})).message_id
    image_id = ok(bot_message(c, party, chat["chat_id"], "image", {"image_key": key}, receive_type="chat")).message_id
    assert text_id and image_id and text_id != image_id

    messages = {m.message_id: m for m in list_messages(c, party, ticket_id).messages}
    assert messages[text_id].message_type == "text" and "Hello from the bot" in messages[text_id].content
    assert messages[image_id].message_type == "image"

    resp = image(c, party, ticket_id, image_id)
    assert resp.success(), (resp.code, resp.msg)
    assert resp.file.read() == IMAGES[3]
    assert resp.file_name.endswith(".webp")


def test_a_bot_message_to_a_user_gets_a_message_id(chat):
    c, party = chat["c"], chat["party"]
    for msg_type, content in (("text", {"text": "Your ticket moved"}), ("interactive", {"elements": []})):
        assert ok(bot_message(c, party, chat["guest"], msg_type, content, receive_type="user")).message_id


def test_a_bot_message_into_a_chat_of_another_helpdesk_is_refused(server, chat):
    c, party = chat["c"], chat["party"]
    other = server.new_party("Bot elsewhere")
    oc = sdk(server, other)
    server.agent(other, "Otto")
    theirs = ok(start_service(oc, other, server.user(other, "Their Guest")))
    before = list_messages(oc, other, theirs.ticket_id).total
    assert_error(bot_message(c, party, theirs.chat_id, "text", {"text": "wrong chat"}), *BAD_REQUEST)
    assert_error(bot_message(c, party, "oc_not_a_chat", "text", {"text": "no chat"}), *BAD_REQUEST)
    assert list_messages(oc, other, theirs.ticket_id).total == before


def test_an_interactive_bot_message_is_refused_in_a_chat(chat):
    c, party = chat["c"], chat["party"]
    before = list_messages(c, party, chat["ticket_id"]).total
    assert_error(bot_message(c, party, chat["chat_id"], "interactive", {"elements": []}), *BAD_REQUEST)
    assert list_messages(c, party, chat["ticket_id"]).total == before


def test_a_bot_message_into_a_closed_tickets_chat_is_refused_until_it_is_reopened(chat):
    c, party, alice = chat["c"], chat["party"], chat["alice"]
    ticket = ok(start_service(c, party, chat["guest"]))
    ok(update(c, ticket.ticket_id, as_agent(alice), status=50))
    assert_error(bot_message(c, party, ticket.chat_id, "text", {"text": "closed?"}), *BAD_REQUEST)
    ok(update(c, ticket.ticket_id, as_agent(alice), status=2))
    msg_id = ok(bot_message(c, party, ticket.chat_id, "text", {"text": "reopened"})).message_id
    assert msg_id in [m.message_id for m in list_messages(c, party, ticket.ticket_id).messages]


# --- bad input -------------------------------------------------------------------


def test_a_rich_text_that_is_not_json_is_refused_with_a_hint(kb):
    resp = create_faq(kb["c"], as_agent(kb["alice"]), "Broken rich text", answer_richtext="[{not json")
    assert_bad_request_naming(resp, "answer_richtext")
    assert "Broken rich text" not in [f.question for f in list_faqs(kb["c"], kb["party"], page_size=100).items]


def test_a_rich_text_element_of_an_unknown_type_is_refused_with_a_hint_naming_it(kb):
    resp = create_faq(kb["c"], as_agent(kb["alice"]), "Video answer", answer_richtext=richtext_json(("video", "v_1")))
    assert_bad_request_naming(resp, "video")
    patched = patch_faq(kb["c"], kb["alice"], kb["export"].faq_id, answer_richtext=richtext(("sticker", "s_1")))
    assert_bad_request_naming(patched, "sticker")
    assert read_faq(kb["c"], kb["party"], kb["export"].faq_id).answer == "Open Billing, pick the month and press Export."


def test_an_image_key_of_another_tenant_is_refused_with_a_hint_naming_it(server, kb):
    other = server.new_party("Key owner")
    theirs = upload(sdk(server, other), IMAGES[0])
    resp = create_faq(kb["c"], as_agent(kb["alice"]), "Borrowed image", answer_richtext=richtext_json(("image", theirs)))
    assert_bad_request_naming(resp, theirs)
    resp = create_faq(kb["c"], as_agent(kb["alice"]), "Missing image", answer_richtext=richtext_json(("image", "img_v3_missing")))
    assert_bad_request_naming(resp, "img_v3_missing")


def test_a_category_of_another_helpdesk_is_refused_for_a_faq(server, kb):
    other = server.new_party("Category owner")
    theirs = new_category(sdk(server, other), server.agent(other, "Owner"), "Theirs")
    assert_error(create_faq(kb["c"], as_agent(kb["alice"]), "Foreign category", category_id=theirs.category_id), *BAD_REQUEST)
    assert_error(patch_faq(kb["c"], kb["alice"], kb["export"].faq_id, category_id=theirs.category_id), *BAD_REQUEST)
    assert [x.category_id for x in read_faq(kb["c"], kb["party"], kb["export"].faq_id).categories] == [kb["billing"].category_id]


def test_faq_create_refuses_a_tenant_token_and_faq_get_refuses_a_user_token(kb):
    c, party, alice = kb["c"], kb["party"], kb["alice"]
    tenant_token = TokenManager.get_self_tenant_token(c.config)
    assert tenant_token.startswith("t-")
    wrong = lark.RequestOption.builder().user_access_token(tenant_token).headers(
        {"X-Lark-Helpdesk-Authorization": party.credential}
    ).build()
    assert_error(create_faq(c, wrong, "Made with a tenant token", answer="no"), *TENANT_TOKEN_REFUSED)
    assert found_ids(c, party, "tenant token") == []
    user = lark.RequestOption.builder().tenant_access_token(alice["user_access_token"]).headers(
        {"X-Lark-Helpdesk-Authorization": party.credential}
    ).build()
    assert_error(c.helpdesk.v1.faq.get(GetFaqRequest.builder().id(kb["login"].faq_id).build(), user), *USER_TOKEN_REFUSED)
