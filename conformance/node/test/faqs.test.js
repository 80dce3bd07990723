// FAQ categories, FAQs with images and search, the FAQ image download, im/v1
// image get and the helpdesk bot message, through the official Node SDK's
// own typed API: writes as an agent (its user access token), reads with the
// tenant token and the helpdesk credential.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lark = require('@larksuiteoapi/node-sdk');
const {
  Server,
  provision,
  freshParty,
  appOf,
  agentOf,
  rejection,
  hintOf,
  readAll,
  download,
  DEMO_IMAGES,
} = require('../harness');

const FILES = ['login-error.png', 'step-1.png', 'step-2.jpg', 'step-3.webp'].map((f) => path.join(DEMO_IMAGES, f));
const BYTES = FILES.map((f) => fs.readFileSync(f));

const BAD_REQUEST = [400, 154000, 'Bad request, please check your request body'];
const NOT_FOUND = [404, 154004, 'Resource not found'];
const TENANT_TOKEN_REFUSED = [400, 99991663, 'tenant access token not support'];
const USER_TOKEN_REFUSED = [400, 99991668, 'user access token not support'];
const NOT_SENDER = [400, 234008, 'The app is not the resource sender.'];

let server;
let world;

before(async () => {
  server = new Server();
  await server.start();
  world = provision(server);
});

after(async () => {
  await server.stop();
  server.cleanup();
});

const HD = () => lark.withHelpDeskCredential();
const AS = (agent) => lark.withUserAccessToken(agent.token);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts the call failed with this HTTP status, code and msg; returns the body. */
async function expectError(promise, status, code, msg) {
  const got = await rejection(promise);
  assert.deepEqual([got.status, got.body.code, got.body.msg], [status, code, msg], JSON.stringify(got.body));
  return got.body;
}

/** Asserts a 400/154000 whose hint contains every one of `words`. */
async function expectBadRequestNaming(promise, ...words) {
  const body = await expectError(promise, ...BAD_REQUEST);
  const hint = hintOf(body);
  for (const w of words) assert.ok(hint && hint.includes(w), `the hint names ${w}: ${JSON.stringify(body)}`);
}

function ok(res) {
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data;
}

/** An image uploaded through im/v1 by `c`'s app; returns its image_key. */
async function upload(c, file) {
  const res = await c.im.v1.image.create({ data: { image_type: 'message', image: fs.createReadStream(file) } });
  assert.ok(res && res.image_key, JSON.stringify(res));
  return res.image_key;
}

async function createCategory(c, agent, data) {
  const { category } = ok(await c.helpdesk.v1.category.create({ data }, AS(agent)));
  return category;
}

async function getCategory(c, id) {
  return ok(await c.helpdesk.v1.category.get({ path: { id } }, HD()));
}

async function listCategories(c, params) {
  return ok(await c.helpdesk.v1.category.list({ params }, HD())).categories;
}

async function createFaq(c, agent, faq) {
  const data = ok(await c.helpdesk.v1.faq.create({ data: { faq } }, AS(agent)));
  assert.ok(data.faq && data.faq.faq_id, JSON.stringify(data));
  return data.faq;
}

async function getFaq(c, id) {
  return ok(await c.helpdesk.v1.faq.get({ path: { id } }, HD())).faq;
}

async function listFaqs(c, params) {
  return ok(await c.helpdesk.v1.faq.list({ params }, HD()));
}

async function searchIds(c, params) {
  const data = ok(await c.helpdesk.v1.faq.search({ params }, HD()));
  return data.items.map((f) => f.faq_id);
}

function faqImage(c, id, imageKey, options = HD()) {
  return c.helpdesk.v1.faq.faqImage({ path: { id, image_key: imageKey } }, options);
}

/** Rich text as Node's SDK types it on create: a JSON string. */
const richtext = (elements) => JSON.stringify(elements);

/** A human-service ticket of guest `openId`: {ticket_id, chat_id}. */
async function startTicket(c, openId) {
  const data = ok(await c.helpdesk.v1.ticket.startService({ data: { human_service: true, open_id: openId } }, HD()));
  assert.ok(data.ticket_id && data.chat_id, JSON.stringify(data));
  return data;
}

function botMessage(c, data) {
  return c.helpdesk.v1.botMessage.create({ params: { user_id_type: 'open_id' }, data }, HD());
}

// ---------------------------------------------------------------- categories

test('categories nest, are read back, listed by language and by creation or name in either order, patched and deleted', async () => {
  const party = freshParty(server, 'Categories');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Category Agent');

  const zeta = await createCategory(c, agent, { name: 'Zeta', parent_id: '0', language: 'en_us' });
  const alpha = await createCategory(c, agent, { name: 'Alpha', parent_id: '', language: 'en_us' });
  const middle = await createCategory(c, agent, { name: 'Middle', parent_id: zeta.category_id, language: 'en_us' });
  const chinese = await createCategory(c, agent, { name: '账户', parent_id: '0' });

  for (const cat of [zeta, alpha, middle, chinese]) {
    assert.ok(cat.category_id, JSON.stringify(cat));
    assert.equal(cat.id, cat.category_id);
    assert.equal(cat.helpdesk_id, party.helpDeskId);
  }
  assert.equal(new Set([zeta, alpha, middle, chinese].map((x) => x.category_id)).size, 4, 'distinct ids');
  assert.deepEqual([zeta.name, zeta.language], ['Zeta', 'en_us']);
  assert.equal(chinese.language, 'zh_cn', 'language defaults to zh_cn');
  assert.equal(middle.parent_id, zeta.category_id, 'the child names its parent');
  assert.equal(zeta.parent_id, alpha.parent_id, '"0" and "" both mean top level');
  assert.ok(['', '0'].includes(zeta.parent_id), `a top category's parent_id: ${JSON.stringify(zeta.parent_id)}`);

  assert.deepEqual(await getCategory(c, middle.category_id), middle, 'get answers the category flat, as create did');
  assert.deepEqual(await getCategory(c, zeta.id), zeta);

  const names = async (params) => (await listCategories(c, params)).map((x) => x.name);
  assert.deepEqual(await names({ lang: 'en_us', order_by: 1, asc: true }), ['Zeta', 'Alpha', 'Middle'], 'by creation');
  assert.deepEqual(await names({ lang: 'en_us', order_by: 1, asc: false }), ['Middle', 'Alpha', 'Zeta'], 'by creation, newest first');
  assert.deepEqual(await names({ lang: 'en_us', order_by: 2, asc: true }), ['Alpha', 'Middle', 'Zeta'], 'by name');
  assert.deepEqual(await names({ lang: 'en_us', order_by: 2, asc: false }), ['Zeta', 'Middle', 'Alpha'], 'by name, descending');
  assert.deepEqual(await listCategories(c, { lang: 'zh_cn' }), [chinese]);
  const listed = await listCategories(c, { lang: 'en_us', order_by: 1, asc: true });
  assert.deepEqual(listed, [zeta, alpha, middle], 'list items are the categories as create answered them');

  assert.deepEqual(
    ok(await c.helpdesk.v1.category.patch({ path: { id: middle.category_id }, data: { name: 'Moved', parent_id: alpha.category_id } }, AS(agent))),
    {},
  );
  const moved = await getCategory(c, middle.category_id);
  assert.deepEqual([moved.name, moved.parent_id, moved.language], ['Moved', alpha.category_id, 'en_us']);

  await expectError(c.helpdesk.v1.category.delete({ path: { id: alpha.category_id } }, AS(agent)), ...BAD_REQUEST); // it has a child
  assert.deepEqual(ok(await c.helpdesk.v1.category.delete({ path: { id: middle.category_id } }, AS(agent))), {});
  await expectError(c.helpdesk.v1.category.get({ path: { id: middle.category_id } }, HD()), ...NOT_FOUND);
  await expectError(c.helpdesk.v1.category.delete({ path: { id: middle.category_id } }, AS(agent)), ...NOT_FOUND);
  assert.deepEqual(ok(await c.helpdesk.v1.category.delete({ path: { id: alpha.category_id } }, AS(agent))), {});
  assert.deepEqual(await names({ order_by: 1, asc: true }), ['Zeta', '账户']);
});

test('a category under another helpdesk’s category, under itself or under its own descendant is refused, and another helpdesk’s category is not found', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Cycle Agent');
  const foreign = await createCategory(server.client(world.b), agentOf(server, world.b, 'B Category Agent'), { name: 'B only', parent_id: '0' });

  await expectError(c.helpdesk.v1.category.create({ data: { name: 'Orphan', parent_id: foreign.category_id } }, AS(agent)), ...BAD_REQUEST);
  await expectError(c.helpdesk.v1.category.create({ data: { name: 'Orphan', parent_id: '7000000000000000001' } }, AS(agent)), ...BAD_REQUEST);

  const top = await createCategory(c, agent, { name: 'Top', parent_id: '0' });
  const child = await createCategory(c, agent, { name: 'Child', parent_id: top.category_id });
  const grandchild = await createCategory(c, agent, { name: 'Grandchild', parent_id: child.category_id });
  const patch = (id, data) => c.helpdesk.v1.category.patch({ path: { id }, data }, AS(agent));

  await expectError(patch(top.category_id, { parent_id: top.category_id }), ...BAD_REQUEST);
  await expectError(patch(top.category_id, { parent_id: child.category_id }), ...BAD_REQUEST);
  await expectError(patch(top.category_id, { parent_id: grandchild.category_id }), ...BAD_REQUEST);
  await expectError(patch(child.category_id, { parent_id: foreign.category_id }), ...BAD_REQUEST);
  assert.deepEqual(await getCategory(c, top.category_id), top, 'a refused patch changes nothing');
  assert.deepEqual(await getCategory(c, child.category_id), child);

  await expectError(c.helpdesk.v1.category.get({ path: { id: foreign.category_id } }, HD()), ...NOT_FOUND);
  await expectError(patch(foreign.category_id, { name: 'Taken' }), ...NOT_FOUND);
  await expectError(c.helpdesk.v1.category.delete({ path: { id: foreign.category_id } }, AS(agent)), ...NOT_FOUND);
  assert.equal((await getCategory(server.client(world.b), foreign.category_id)).name, 'B only');
});

// ---------------------------------------------------------------------- FAQs

test('a FAQ is created with rich text (a JSON string) holding an uploaded image, and get answers it the same', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'FAQ Writer');
  const category = await createCategory(c, agent, { name: 'Login', parent_id: '0' });
  const key = await upload(c, FILES[1]);
  const elements = [
    { type: 'text', content: 'Reset your password on the login page.' },
    { type: 'image', content: key },
  ];
  const startedAt = Date.now();
  const faq = await createFaq(c, agent, {
    category_id: category.category_id,
    question: 'I cannot log in',
    answer_richtext: richtext(elements),
    tags: ['login', 'password'],
  });

  assert.equal(faq.id, faq.faq_id);
  assert.equal(faq.helpdesk_id, world.a.helpDeskId);
  assert.equal(faq.question, 'I cannot log in');
  assert.deepEqual(faq.answer_richtext, elements, 'answer_richtext comes back as an array');
  assert.equal(faq.answer, 'Reset your password on the login page.', 'answer defaults to the text of the rich text');
  assert.deepEqual(faq.categories, [category]);
  assert.deepEqual(faq.tags, ['login', 'password']);
  assert.equal(faq.expire_time, 0);
  assert.ok(Number.isInteger(faq.create_time) && faq.create_time >= startedAt - 1000 && faq.create_time <= Date.now() + 1000, `create_time in ms: ${faq.create_time}`);
  assert.equal(faq.update_time, faq.create_time);
  assert.deepEqual([faq.create_user.id, faq.create_user.name], [agent.id, 'FAQ Writer']);
  assert.deepEqual([faq.update_user.id, faq.update_user.name], [agent.id, 'FAQ Writer']);

  assert.deepEqual(await getFaq(c, faq.faq_id), faq);
});

test('FAQs are listed by category and status in creation order, page by page with page_token', async () => {
  const party = freshParty(server, 'FAQ list');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Lister');
  const billing = await createCategory(c, agent, { name: 'Billing', parent_id: '0' });
  const other = await createCategory(c, agent, { name: 'Other', parent_id: '0' });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const faq = await createFaq(c, agent, {
      category_id: (i % 2 === 0 ? billing : other).category_id,
      question: `Question ${i}`,
      answer: `Answer ${i}`,
    });
    assert.equal(faq.answer, `Answer ${i}`, 'a given answer is kept');
    ids.push(faq.faq_id);
  }

  const all = await listFaqs(c, {});
  assert.equal(all.total, 5);
  assert.equal(all.has_more, false);
  assert.deepEqual(all.items.map((f) => f.faq_id), ids, 'creation order');

  const pages = [];
  let pageToken;
  let data;
  let calls = 0;
  do {
    data = await listFaqs(c, { page_size: 2, ...(pageToken ? { page_token: pageToken } : {}) });
    calls++;
    assert.equal(data.total, 5);
    assert.equal(data.page_size, 2);
    assert.ok(data.items.length <= 2);
    pages.push(...data.items.map((f) => f.faq_id));
    if (data.has_more) assert.ok(data.page_token, 'has_more comes with a page_token');
    pageToken = data.page_token;
  } while (data.has_more && calls < 10);
  assert.equal(calls, 3);
  assert.equal(data.page_token, undefined, 'the last page carries no page_token');
  assert.deepEqual(pages, ids, 'pages of 2 make up the whole list in its order');

  assert.deepEqual((await listFaqs(c, { category_id: billing.category_id })).items.map((f) => f.faq_id), [ids[0], ids[2], ids[4]]);
  assert.deepEqual((await listFaqs(c, { category_id: other.category_id })).items.map((f) => f.faq_id), [ids[1], ids[3]]);

  assert.deepEqual(ok(await c.helpdesk.v1.faq.delete({ path: { id: ids[2] } }, AS(agent))), {});
  assert.deepEqual((await listFaqs(c, { status: '1' })).items.map((f) => f.faq_id), [ids[0], ids[1], ids[3], ids[4]]);
  assert.deepEqual((await listFaqs(c, {})).items.map((f) => f.faq_id), [ids[0], ids[1], ids[3], ids[4]], 'status defaults to 1');
  const deleted = await listFaqs(c, { status: '0' });
  assert.deepEqual([deleted.total, deleted.items.map((f) => f.faq_id)], [1, [ids[2]]]);
  assert.deepEqual((await listFaqs(c, { status: '0', category_id: other.category_id })).items, []);
});

test('a FAQ is patched with its rich text as an array, and the image it no longer holds is no longer served', async () => {
  const c = server.client(world.a);
  const writer = agentOf(server, world.a, 'First Writer');
  const editor = agentOf(server, world.a, 'Second Editor');
  const moveTo = await createCategory(c, writer, { name: 'Patched into', parent_id: '0' });
  const oldKey = await upload(c, FILES[0]);
  const newKey = await upload(c, FILES[2]);
  const faq = await createFaq(c, writer, {
    question: 'Old question',
    answer_richtext: richtext([{ type: 'image', content: oldKey }]),
  });
  // Fetched once before the patch, as a reader of the FAQ would have.
  assert.ok((await download(faqImage(c, faq.faq_id, oldKey))).bytes.equals(BYTES[0]));
  await sleep(5);

  const elements = [
    { type: 'paragraph', content: 'Step one' },
    { type: 'hyperlink', content: 'https://example.com/help' },
    { type: 'line_break', content: '' },
    { type: 'image', content: newKey },
  ];
  const res = await c.helpdesk.v1.faq.patch(
    {
      path: { id: faq.faq_id },
      data: { faq: { question: 'New question', answer: 'See the steps', answer_richtext: elements, tags: ['patched'], category_id: moveTo.category_id } },
    },
    AS(editor),
  );
  assert.deepEqual(ok(res), {});

  const got = await getFaq(c, faq.faq_id);
  assert.equal(got.question, 'New question');
  assert.equal(got.answer, 'See the steps');
  assert.deepEqual(got.answer_richtext, elements);
  assert.deepEqual(got.tags, ['patched']);
  assert.deepEqual(got.categories, [moveTo]);
  assert.equal(got.create_time, faq.create_time);
  assert.ok(got.update_time > faq.update_time, `update_time moves on: ${faq.update_time} -> ${got.update_time}`);
  assert.equal(got.create_user.id, writer.id);
  assert.deepEqual([got.update_user.id, got.update_user.name], [editor.id, 'Second Editor']);

  assert.ok((await download(faqImage(c, faq.faq_id, newKey))).bytes.equals(BYTES[2]));
  await expectError(faqImage(c, faq.faq_id, oldKey), ...NOT_FOUND);
});

test('a FAQ deleted once is status 0 and still answers, a patch brings it back, and deleted twice it is gone', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Deleter');
  const key = await upload(c, FILES[3]);
  const faq = await createFaq(c, agent, { question: 'Deleted soon', answer_richtext: richtext([{ type: 'image', content: key }]) });
  const inList = async (status) => (await listFaqs(c, { status, page_size: 100 })).items.some((f) => f.faq_id === faq.faq_id);
  const del = () => c.helpdesk.v1.faq.delete({ path: { id: faq.faq_id } }, AS(agent));

  assert.deepEqual(ok(await del()), {});
  assert.equal((await getFaq(c, faq.faq_id)).question, 'Deleted soon', 'status 0 still answers get');
  assert.deepEqual([await inList('1'), await inList('0')], [false, true]);
  assert.ok((await download(faqImage(c, faq.faq_id, key))).bytes.equals(BYTES[3]), 'and its image');

  ok(await c.helpdesk.v1.faq.patch({ path: { id: faq.faq_id }, data: { faq: { question: 'Back again' } } }, AS(agent)));
  assert.deepEqual([await inList('1'), await inList('0')], [true, false], 'a patch brings a deleted FAQ back online');

  assert.deepEqual(ok(await del()), {});
  assert.deepEqual([await inList('1'), await inList('0')], [false, true]);
  assert.deepEqual(ok(await del()), {}, 'the second delete');
  await expectError(c.helpdesk.v1.faq.get({ path: { id: faq.faq_id } }, HD()), ...NOT_FOUND);
  assert.deepEqual([await inList('1'), await inList('0')], [false, false]);
  await expectError(del(), ...NOT_FOUND);
  await expectError(c.helpdesk.v1.faq.patch({ path: { id: faq.faq_id }, data: { faq: { question: 'Too late' } } }, AS(agent)), ...NOT_FOUND);
  await expectError(faqImage(c, faq.faq_id, key), ...NOT_FOUND);
});

test('search finds a Chinese question by part of a word, plainly and in base64, an English one by its words, and not the other FAQ', async () => {
  // A matching FAQ in another helpdesk must not be found.
  const b = server.client(world.b);
  await createFaq(b, agentOf(server, world.b, 'B Writer'), { question: '无法登录系统怎么办？', answer: '重置密码' });

  const party = freshParty(server, 'Search');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Searcher');
  const chinese = await createFaq(c, agent, { question: '无法登录系统怎么办？', answer: '请在登录页面重置密码。' });
  const english = await createFaq(c, agent, { question: 'How do I export a monthly report?', answer: 'Open Reports and click Export.' });

  assert.deepEqual(await searchIds(c, { query: '登录' }), [chinese.faq_id]);
  assert.deepEqual(await searchIds(c, { query: '系' }), [chinese.faq_id], 'one character is a part');
  assert.deepEqual(await searchIds(c, { query: '密码' }), [chinese.faq_id], 'the answer is searched too');
  const b64 = (s, enc = 'base64') => Buffer.from(s, 'utf8').toString(enc);
  assert.equal(b64('登录'), '55m75b2V');
  assert.deepEqual(await searchIds(c, { query: b64('登录'), base64: 'true' }), [chinese.faq_id]);
  assert.deepEqual(await searchIds(c, { query: b64('登录系统怎么办') , base64: 'true' }), [chinese.faq_id]);

  assert.deepEqual(await searchIds(c, { query: 'export report' }), [english.faq_id]);
  assert.deepEqual(await searchIds(c, { query: 'EXPORT' }), [english.faq_id]);
  assert.deepEqual(await searchIds(c, { query: 'click' }), [english.faq_id], 'the answer is searched too');
  assert.equal(b64('monthly report?'), 'bW9udGhseSByZXBvcnQ/');
  assert.deepEqual(await searchIds(c, { query: b64('monthly report?'), base64: 'true' }), [english.faq_id], 'standard base64');
  assert.deepEqual(await searchIds(c, { query: b64('monthly report?', 'base64url'), base64: 'true' }), [english.faq_id], 'URL-safe base64');

  assert.deepEqual(await searchIds(c, { query: '登录 export' }), [], 'every word must match');
  assert.deepEqual(await searchIds(c, { query: 'import' }), []);
  const found = ok(await c.helpdesk.v1.faq.search({ params: { query: '登录' } }, HD()));
  assert.equal(found.has_more, false);
  assert.deepEqual(found.items, [chinese], 'search items are the FAQs as create answered them');
  await expectError(c.helpdesk.v1.faq.search({ params: { query: '' } }, HD()), ...BAD_REQUEST);
  await expectError(c.helpdesk.v1.faq.search({ params: { query: '？ ?' } }, HD()), ...BAD_REQUEST);
});

// ---------------------------------------------------------------- faq_image

test('faqImage answers each image a FAQ holds byte for byte, through getReadableStream and writeFile', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Image Writer');
  const png = await upload(c, FILES[0]);
  const jpg = await upload(c, FILES[2]);
  const faq = await createFaq(c, agent, {
    question: 'Which screen?',
    answer_richtext: richtext([{ type: 'image', content: png }, { type: 'text', content: 'then' }, { type: 'image', content: jpg }]),
  });

  const res = await faqImage(c, faq.faq_id, png);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.equal(res.headers['content-length'], String(BYTES[0].length));
  assert.equal(res.headers.etag, `"${crypto.createHash('sha256').update(BYTES[0]).digest('hex')}"`);
  assert.match(res.headers['content-disposition'], /^attachment; filename="login-error\.png"; filename\*=UTF-8''login-error\.png$/);
  assert.ok((await readAll(res.getReadableStream())).equals(BYTES[0]));

  // The ETag back as If-None-Match: 304, which the SDK throws on, with no body.
  let notModified;
  try {
    const again = await faqImage(c, faq.faq_id, png, { ...HD(), headers: { 'If-None-Match': res.headers.etag } });
    again.getReadableStream().destroy();
  } catch (e) {
    notModified = e;
  }
  assert.equal(notModified?.response?.status, 304, String(notModified));
  assert.equal((await readAll(notModified.response.data)).length, 0);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helpdesk-node-faq-'));
  try {
    const out = path.join(dir, 'step-2.jpg');
    const second = await faqImage(c, faq.faq_id, jpg);
    assert.equal(second.headers['content-type'], 'image/jpeg');
    await second.writeFile(out);
    assert.ok(fs.readFileSync(out).equals(BYTES[2]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('faqImage refuses a key the FAQ does not hold, and another tenant’s FAQ exactly as a missing one', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Holder');
  const held = await upload(c, FILES[1]);
  const notHeld = await upload(c, FILES[3]);
  const faq = await createFaq(c, agent, { question: 'Holds one', answer_richtext: richtext([{ type: 'image', content: held }]) });
  const other = await createFaq(c, agent, { question: 'Holds the other', answer_richtext: richtext([{ type: 'image', content: notHeld }]) });

  await expectError(faqImage(c, faq.faq_id, notHeld), ...NOT_FOUND);
  await expectError(faqImage(c, other.faq_id, held), ...NOT_FOUND);
  await expectError(faqImage(c, faq.faq_id, 'img_v3_not_a_key'), ...NOT_FOUND);

  const b = server.client(world.b);
  const foreign = await rejection(faqImage(b, faq.faq_id, held));
  const missing = await rejection(faqImage(b, '7000000000000000001', held));
  assert.deepEqual([foreign.status, foreign.body.code, foreign.body.msg], NOT_FOUND, JSON.stringify(foreign.body));
  assert.deepEqual([missing.status, missing.body.code, missing.body.msg], NOT_FOUND, JSON.stringify(missing.body));
  // The hints name the id asked for; past that, nothing tells a foreign FAQ from a missing one.
  assert.equal(
    hintOf(foreign.body).replace(faq.faq_id, '<id>'),
    hintOf(missing.body).replace('7000000000000000001', '<id>'),
  );
  await expectError(b.helpdesk.v1.faq.get({ path: { id: faq.faq_id } }, HD()), ...NOT_FOUND);
  assert.ok((await download(faqImage(c, faq.faq_id, held))).bytes.equals(BYTES[1]), 'the owner still gets it');
});

test('a FAQ needs an answer or rich text besides its question', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Terse Writer');
  await expectBadRequestNaming(c.helpdesk.v1.faq.create({ data: { faq: { question: 'Only a question' } } }, AS(agent)), 'answer');
});

test('the image an FAQ holds goes with it: deleted for good, its key is deleted unless a message still holds it', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Releaser');
  const key = await upload(c, FILES[2]);
  const faq = await createFaq(c, agent, { question: 'Gone soon', answer_richtext: richtext([{ type: 'image', content: key }]) });
  ok(await c.helpdesk.v1.faq.delete({ path: { id: faq.faq_id } }, AS(agent)));
  // Deleted once (recoverable): the uploader still gets it.
  assert.ok((await download(c.im.v1.image.get({ path: { image_key: key } }))).bytes.equals(BYTES[2]));
  ok(await c.helpdesk.v1.faq.delete({ path: { id: faq.faq_id } }, AS(agent)));
  // Deleted for good: the image was the FAQ's, and nothing else holds it.
  const got = await rejection(c.im.v1.image.get({ path: { image_key: key } }));
  assert.deepEqual([got.status, got.body.code], [400, 234005], JSON.stringify(got.body));
  const refused = await rejection(createFaq(c, agent, { question: 'Reuses it', answer_richtext: richtext([{ type: 'image', content: key }]) }));
  const hint = hintOf(refused.body);
  assert.match(hint, new RegExp(`image_key ${key} is not a live image`));
});

// ------------------------------------------------------------- im image get

test('im image get answers the uploading app its bytes, refuses another app of the tenant and another tenant’s key, and a deleted image', async () => {
  const c = server.client(world.a);
  const key = await upload(c, FILES[1]);
  const got = await download(c.im.v1.image.get({ path: { image_key: key } }));
  assert.ok(got.bytes.equals(BYTES[1]));
  assert.equal(got.headers['content-type'], 'image/png');

  const sibling = server.client(appOf(server, world.a));
  await expectError(sibling.im.v1.image.get({ path: { image_key: key } }), ...NOT_SENDER);
  const foreignKey = await upload(server.client(world.b), FILES[0]);
  const foreign = await rejection(c.im.v1.image.get({ path: { image_key: foreignKey } }));
  assert.deepEqual([foreign.status, foreign.body.code], [400, 234001], JSON.stringify(foreign.body));
  const missing = await rejection(c.im.v1.image.get({ path: { image_key: 'img_v3_missing' } }));
  assert.deepEqual([missing.status, missing.body.code], [400, 234001], JSON.stringify(missing.body));

  // A FAQ holding the key answers it deleted too.
  const agent = agentOf(server, world.a, 'Image Keeper');
  const faq = await createFaq(c, agent, { question: 'Soon without image', answer_richtext: richtext([{ type: 'image', content: key }]) });
  await download(faqImage(c, faq.faq_id, key));

  server.admin('image', 'delete', '--key', key);
  const deleted = await rejection(c.im.v1.image.get({ path: { image_key: key } }));
  assert.deepEqual([deleted.status, deleted.body.code], [400, 234005], JSON.stringify(deleted.body));
  await expectError(faqImage(c, faq.faq_id, key), 401, 154404, 'Image might be deleted');
});

// ------------------------------------------------------------- bot message

test('a bot message with an image joins the ticket’s chat: ticket messages list it and ticketImage serves it by its message_id', async () => {
  const c = server.client(world.a);
  const key = await upload(c, FILES[2]);
  const ticket = await startTicket(c, 'ou_bot_message_guest');

  const sent = ok(await botMessage(c, {
    msg_type: 'image',
    content: JSON.stringify({ image_key: key }),
    receiver_id: ticket.chat_id,
    receive_type: 'chat',
  }));
  assert.match(sent.message_id, /^om_/);
  const text = ok(await botMessage(c, { msg_type: 'text', content: JSON.stringify({ text: 'the bot speaks' }), receiver_id: ticket.chat_id }));
  assert.ok(text.message_id && text.message_id !== sent.message_id, 'receive_type defaults to chat');

  const list = ok(await c.helpdesk.v1.ticketMessage.list({ path: { ticket_id: ticket.ticket_id }, params: { page: 1, page_size: 50 } }, HD()));
  const image = list.messages.find((m) => m.message_id === sent.message_id);
  assert.ok(image, JSON.stringify(list));
  assert.equal(image.message_type, 'image');
  assert.deepEqual(JSON.parse(image.content), { image_key: key });
  const said = list.messages.find((m) => m.message_id === text.message_id);
  assert.ok(said, JSON.stringify(list));
  assert.deepEqual([said.message_type, JSON.parse(said.content)], ['text', { text: 'the bot speaks' }]);

  const served = await download(
    c.helpdesk.v1.ticket.ticketImage({ params: { ticket_id: ticket.ticket_id, msg_id: sent.message_id } }, HD()),
  );
  assert.ok(served.bytes.equals(BYTES[2]));
});

test('a bot message to a user answers a message_id, of any of the four types', async () => {
  const c = server.client(world.a);
  const key = await upload(c, FILES[0]);
  const user = 'ou_bot_message_user';
  const contents = {
    text: { text: 'hello' },
    post: { zh_cn: { title: 'Notice', content: [[{ tag: 'text', text: 'body' }]] } },
    image: { image_key: key },
    interactive: { elements: [{ tag: 'div', text: { tag: 'plain_text', content: 'card' } }] },
  };
  const ids = new Set();
  for (const [msgType, content] of Object.entries(contents)) {
    const sent = ok(await botMessage(c, { msg_type: msgType, content: JSON.stringify(content), receiver_id: user, receive_type: 'user' }));
    assert.match(sent.message_id, /^om_/, msgType);
    ids.add(sent.message_id);
  }
  assert.equal(ids.size, 4, 'distinct message ids');
});

test('a bot message into another helpdesk’s chat, a card into a chat and a message into a closed ticket’s chat are refused', async () => {
  const c = server.client(world.a);
  const foreign = await startTicket(server.client(world.b), 'ou_bot_foreign_guest');
  const text = JSON.stringify({ text: 'hi' });
  await expectError(botMessage(c, { msg_type: 'text', content: text, receiver_id: foreign.chat_id, receive_type: 'chat' }), ...BAD_REQUEST);
  await expectError(botMessage(c, { msg_type: 'text', content: text, receiver_id: 'oc_not_a_chat', receive_type: 'chat' }), ...BAD_REQUEST);

  const ticket = await startTicket(c, 'ou_bot_card_guest');
  const card = JSON.stringify({ elements: [{ tag: 'div', text: { tag: 'plain_text', content: 'card' } }] });
  await expectError(botMessage(c, { msg_type: 'interactive', content: card, receiver_id: ticket.chat_id, receive_type: 'chat' }), ...BAD_REQUEST);

  const agent = agentOf(server, world.a, 'Closer');
  ok(await c.helpdesk.v1.ticket.update({ path: { ticket_id: ticket.ticket_id }, data: { status: 50 } }, AS(agent)));
  await expectError(botMessage(c, { msg_type: 'text', content: text, receiver_id: ticket.chat_id, receive_type: 'chat' }), ...BAD_REQUEST);
  const list = ok(await c.helpdesk.v1.ticketMessage.list({ path: { ticket_id: ticket.ticket_id }, params: { page: 1, page_size: 50 } }, HD()));
  assert.equal(list.total, 0, 'nothing refused was recorded');
});

// ---------------------------------------------------------------- bad input

test('answer_richtext that is not JSON, an unknown element type, another tenant’s or a missing image key, and another helpdesk’s category are refused, the hint naming each', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Careless Writer');
  const create = (faq) => c.helpdesk.v1.faq.create({ data: { faq: { question: 'Bad', ...faq } } }, AS(agent));

  await expectBadRequestNaming(create({ answer_richtext: 'not json' }), 'answer_richtext');
  await expectBadRequestNaming(create({ answer_richtext: richtext([{ type: 'video', content: 'x' }]) }), 'video');
  const foreignKey = await upload(server.client(world.b), FILES[1]);
  await expectBadRequestNaming(create({ answer_richtext: richtext([{ type: 'image', content: foreignKey }]) }), foreignKey);
  await expectBadRequestNaming(create({ answer_richtext: richtext([{ type: 'image', content: 'img_v3_missing_key' }]) }), 'img_v3_missing_key');
  const foreignCategory = await createCategory(server.client(world.b), agentOf(server, world.b, 'B Categorist'), { name: 'B', parent_id: '0' });
  await expectError(create({ category_id: foreignCategory.category_id }), ...BAD_REQUEST);

  // The same checks on patch, where the SDK types the rich text as an array.
  const faq = await createFaq(c, agent, { question: 'Fine', answer: 'plain' });
  const patch = (fields) => c.helpdesk.v1.faq.patch({ path: { id: faq.faq_id }, data: { faq: { question: 'Fine', ...fields } } }, AS(agent));
  await expectBadRequestNaming(patch({ answer_richtext: [{ type: 'video', content: 'x' }] }), 'video');
  await expectBadRequestNaming(patch({ answer_richtext: [{ type: 'image', content: foreignKey }] }), foreignKey);
  const unchanged = await getFaq(c, faq.faq_id);
  assert.deepEqual([unchanged.answer, unchanged.update_time], ['plain', faq.update_time], 'a refused patch changes nothing');

  const before = (await listFaqs(c, { page_size: 100 })).total;
  await expectError(create({ answer_richtext: 'not json' }), ...BAD_REQUEST);
  assert.equal((await listFaqs(c, { page_size: 100 })).total, before, 'nothing refused was created');
});

test('faq and category writes refuse a tenant token, and reads a user token', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Token Agent');
  await expectError(c.helpdesk.v1.faq.create({ data: { faq: { question: 'By tenant', answer: 'a' } } }, HD()), ...TENANT_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.category.create({ data: { name: 'By tenant', parent_id: '0' } }, HD()), ...TENANT_TOKEN_REFUSED);
  const faq = await createFaq(c, agent, { question: 'By agent', answer: 'a' });
  await expectError(c.helpdesk.v1.faq.patch({ path: { id: faq.faq_id }, data: { faq: { question: 'x' } } }, HD()), ...TENANT_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.faq.delete({ path: { id: faq.faq_id } }, HD()), ...TENANT_TOKEN_REFUSED);

  await expectError(c.helpdesk.v1.faq.get({ path: { id: faq.faq_id } }, AS(agent)), ...USER_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.faq.list({}, AS(agent)), ...USER_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.category.list({}, AS(agent)), ...USER_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.faq.search({ params: { query: 'agent' } }, AS(agent)), ...USER_TOKEN_REFUSED);
  assert.equal((await getFaq(c, faq.faq_id)).question, 'By agent', 'nothing refused changed it');
});
