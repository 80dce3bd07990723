// The official Node SDK (@larksuiteoapi/node-sdk) against the helpdesk
// server, through the SDK's own API only.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lark = require('@larksuiteoapi/node-sdk');
const { Server, provision, readAll, DEMO_IMAGES, LOG_ID } = require('../harness');

const FILES = ['login-error.png', 'step-1.png', 'step-2.jpg', 'step-3.webp'].map((f) => path.join(DEMO_IMAGES, f));
const BYTES = FILES.map((f) => fs.readFileSync(f));

let server;
let world;
let ticket; // { id, messages: {text, image, post} }

async function upload(c, file) {
  const res = await c.im.v1.image.create({ data: { image_type: 'message', image: fs.createReadStream(file) } });
  assert.ok(res.image_key, JSON.stringify(res));
  return res.image_key;
}

async function startService(c) {
  const res = await c.helpdesk.v1.ticket.startService(
    { data: { human_service: true, open_id: 'ou_conformance' } },
    lark.withHelpDeskCredential(),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.ok(res.data.chat_id);
  return res.data.ticket_id;
}

async function post(c, ticketId, msgType, content) {
  const res = await c.helpdesk.v1.ticketMessage.create(
    { path: { ticket_id: ticketId }, data: { msg_type: msgType, content: JSON.stringify(content) } },
    lark.withHelpDeskCredential(),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data.message_id;
}

async function listMessages(c, ticketId) {
  const res = await c.helpdesk.v1.ticketMessage.list(
    { path: { ticket_id: ticketId }, params: { page: 1, page_size: 50 } },
    lark.withHelpDeskCredential(),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data;
}

function image(c, ticketId, msgId, index, options = lark.withHelpDeskCredential()) {
  const params = { ticket_id: ticketId, msg_id: msgId };
  if (index !== undefined) params.index = index;
  return c.helpdesk.v1.ticket.ticketImage({ params }, options);
}

/** The SDK throws on an error; its response carries the status, the log id
 *  and, for this binary endpoint, the JSON body as a stream. */
async function expectError(promise, status, code, msg) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error && error.response, 'the SDK reported an error');
  assert.equal(error.response.status, status);
  const raw = error.response.data;
  const body = typeof raw?.pipe === 'function' ? JSON.parse((await readAll(raw)).toString('utf8')) : raw;
  assert.equal(body.code, code);
  assert.equal(body.msg, msg);
  const logId = error.response.headers['x-tt-logid'];
  // axios lower-cases names; the raw ones must be spelt as Feishu does, for
  // SDKs (Python's) that look them up by exact name.
  const rawNames = error.response.request.res.rawHeaders.filter((_, i) => i % 2 === 0);
  assert.ok(rawNames.includes('X-Tt-Logid') && rawNames.includes('Content-Type'), rawNames.join(', '));
  assert.match(logId, LOG_ID);
  assert.equal(body.error.log_id, logId);
}

const BAD_REQUEST = [400, 154000, 'Bad request, please check your request body'];
const FORBIDDEN = [403, 154003, 'Please check you have the correct access'];
const NOT_FOUND = [404, 154004, 'Resource not found'];

before(async () => {
  server = new Server();
  await server.start();
  world = provision(server);
  const c = server.client(world.a);
  const keys = [];
  for (const f of FILES) keys.push(await upload(c, f));
  const id = await startService(c);
  await post(c, id, 'text', { text: 'hello' });
  await post(c, id, 'image', { image_key: keys[0] });
  const paragraphs = [[{ tag: 'text', text: 'steps' }], ...keys.slice(1).map((k) => [{ tag: 'img', image_key: k }])];
  await post(c, id, 'post', { zh_cn: { title: 'export fails', content: paragraphs } });
  const messages = {};
  for (const m of (await listMessages(c, id)).messages) messages[m.message_type] = m;
  ticket = { id, messages };
});

after(async () => {
  await server.stop();
  server.cleanup();
});

test('the SDK fetches and caches its own token', async () => {
  const c = server.client(world.b);
  const before = server.tokenRequests();
  const id = await startService(c);
  for (let i = 0; i < 3; i++) {
    const res = await c.helpdesk.v1.ticket.get({ path: { ticket_id: id } }, lark.withHelpDeskCredential());
    assert.equal(res.code, 0);
  }
  assert.equal(server.tokenRequests() - before, 1);
});

test('messages are listed and the ticket read back', async () => {
  const c = server.client(world.a);
  const data = await listMessages(c, ticket.id);
  assert.equal(data.total, 3);
  assert.deepEqual(
    data.messages.map((m) => m.message_type),
    ['text', 'image', 'post'],
  );
  for (const m of data.messages) assert.ok(Number.isInteger(m.created_at) && m.id && m.message_id);
  const res = await c.helpdesk.v1.ticket.get({ path: { ticket_id: ticket.id } }, lark.withHelpDeskCredential());
  assert.equal(res.data.ticket.ticket_id, ticket.id);
  assert.equal(res.data.ticket.guest.id, 'ou_conformance');
});

test('every image comes back byte for byte, with a file name', async () => {
  const c = server.client(world.a);
  const wanted = [[ticket.messages.image, undefined, BYTES[0]]];
  for (let i = 0; i < 3; i++) wanted.push([ticket.messages.post, i, BYTES[1 + i]]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helpdesk-node-out-'));
  for (const [message, index, bytes] of wanted) {
    for (const msgId of [message.id, message.message_id]) {
      const res = await image(c, ticket.id, msgId, index);
      assert.match(res.headers['content-disposition'], /^attachment; filename="[^"]+"; filename\*=UTF-8''\S+$/);
      assert.match(res.headers['x-tt-logid'], LOG_ID);
      const out = path.join(dir, `${msgId}-${index}`);
      await res.writeFile(out);
      assert.ok(fs.readFileSync(out).equals(bytes));
    }
  }
  const stream = (await image(c, ticket.id, ticket.messages.post.message_id, 2)).getReadableStream();
  assert.ok((await readAll(stream)).equals(BYTES[3]));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('error rows, as the SDK reports them', async () => {
  const c = server.client(world.a);
  const postMsg = ticket.messages.post.id;
  const imageMsg = ticket.messages.image.id;
  const other = await startService(c);

  await expectError(image(c, ticket.id, postMsg), ...BAD_REQUEST); // post without index
  await expectError(image(c, ticket.id, postMsg, 3), ...BAD_REQUEST); // out of range
  await expectError(image(c, ticket.id, postMsg, -1), ...BAD_REQUEST); // negative
  await expectError(image(c, other, postMsg, 0), ...NOT_FOUND); // message of another ticket
  await expectError(image(c, ticket.id, ticket.messages.text.id), ...NOT_FOUND); // holds no image
  // A's app with B's helpdesk credential.
  await expectError(image(server.client({ ...world.a, helpDeskId: world.b.helpDeskId, helpDeskToken: world.b.helpDeskToken }), ticket.id, imageMsg), ...FORBIDDEN);
  // A store app.
  await expectError(image(server.client(world.aStore), ticket.id, imageMsg), ...FORBIDDEN);
  // An app without a helpdesk scope.
  await expectError(
    image(server.client(world.aNoHelpdeskScope), ticket.id, imageMsg),
    400,
    99991672,
    'Access denied. One of the following scopes is required: [helpdesk:all:readonly, helpdesk:all]',
  );
  // A bad token.
  await expectError(
    image(server.client(world.a, { disableTokenCache: true }), ticket.id, imageMsg, undefined, {
      ...lark.withHelpDeskCredential(),
      ...lark.withTenantToken('t-not-a-token'),
    }),
    400,
    99991663,
    'Invalid access token for authorization. Please make a request with token attached.',
  );
  // A JSON API reports its errors the same way (here: a ticket of another helpdesk).
  await expectError(
    server.client(world.b).helpdesk.v1.ticket.get({ path: { ticket_id: ticket.id } }, lark.withHelpDeskCredential()),
    ...NOT_FOUND,
  );
});

test('a deleted image', async () => {
  const c = server.client(world.a);
  const key = await upload(c, FILES[2]);
  const id = await startService(c);
  const msg = await post(c, id, 'image', { image_key: key });
  await readAll((await image(c, id, msg)).getReadableStream());
  server.admin('image', 'delete', '--ticket', id, '--msg', msg);
  await expectError(image(c, id, msg), 401, 154404, 'Image might be deleted');
});

test('the cached token survives a server restart', async () => {
  const c = server.client(world.a);
  await readAll((await image(c, ticket.id, ticket.messages.image.id)).getReadableStream());
  await server.restart();
  const before = server.tokenRequests();
  const res = await image(c, ticket.id, ticket.messages.image.id);
  assert.ok((await readAll(res.getReadableStream())).equals(BYTES[0]));
  assert.equal(server.tokenRequests(), before, 'the SDK reused its cached token');
});
