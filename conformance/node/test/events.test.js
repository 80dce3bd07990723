// Helpdesk events through the official Node SDK: its EventDispatcher (with an
// encrypt key and a verification token) behind http.createServer and
// adaptDefault passes URL verification, receives both events through its
// handlers, and the message handler fetches every image the event names
// through the same SDK's ticketImage.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const lark = require('@larksuiteoapi/node-sdk');
const { Server, provision, readAll, DEMO_IMAGES, QUIET } = require('../harness');

const FILES = ['login-error.png', 'step-1.png', 'step-2.jpg', 'step-3.webp'].map((f) => path.join(DEMO_IMAGES, f));
const BYTES = FILES.map((f) => fs.readFileSync(f));
const ENCRYPT_KEY = 'node conformance key';
const VERIFICATION_TOKEN = 'node conformance token';
const EVENTS = [
  { type: 'helpdesk.ticket', subtype: 'ticket.created_v1' },
  { type: 'helpdesk.ticket_message', subtype: 'ticket_message.created_v1' },
];

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

test('the EventDispatcher gets both events and fetches every image they name', async () => {
  const party = world.a;
  const c = server.client(party);
  const tickets = [];
  const messages = [];
  const images = {};
  const dispatcher = new lark.EventDispatcher({
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    logger: QUIET,
  }).register({
    'helpdesk.ticket.created_v1': async (data) => {
      tickets.push(data);
    },
    'helpdesk.ticket_message.created_v1': async (data) => {
      const indexes =
        data.msg_type === 'image' ? [undefined] : data.msg_type === 'post' ? data.content.image_keys.map((_, i) => i) : [];
      const got = [];
      for (const index of indexes) {
        const params = { ticket_id: data.ticket.ticket_id, msg_id: data.message_id };
        if (index !== undefined) params.index = index;
        const res = await c.helpdesk.v1.ticket.ticketImage({ params }, lark.withHelpDeskCredential());
        got.push(await readAll(res.getReadableStream()));
      }
      images[data.message_id] = got;
      messages.push(data);
    },
  });
  const receiver = http.createServer(lark.adaptDefault('/webhook/event', dispatcher, { autoChallenge: true }));
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/webhook/event`;
  try {
    const out = await server.adminAsync(
      'app', 'events', '--app', party.appId, '--url', url,
      '--encrypt-key', ENCRYPT_KEY, '--verification-token', VERIFICATION_TOKEN,
    );
    assert.equal(out.encrypted, true);
    const sub = await c.helpdesk.v1.event.subscribe({ data: { events: EVENTS } }, lark.withHelpDeskCredential());
    assert.equal(sub.code, 0, JSON.stringify(sub));

    const keys = [];
    for (const f of FILES) {
      keys.push((await c.im.v1.image.create({ data: { image_type: 'message', image: fs.createReadStream(f) } })).image_key);
    }
    const started = await c.helpdesk.v1.ticket.startService(
      { data: { human_service: true, open_id: 'ou_node' } },
      lark.withHelpDeskCredential(),
    );
    const ticketId = started.data.ticket_id;
    const post = async (msgType, content) =>
      (
        await c.helpdesk.v1.ticketMessage.create(
          { path: { ticket_id: ticketId }, data: { msg_type: msgType, content: JSON.stringify(content) } },
          lark.withHelpDeskCredential(),
        )
      ).data.message_id;
    await post('text', { text: 'hello' });
    const imageMsg = await post('image', { image_key: keys[0] });
    const paragraphs = keys.slice(1).map((k) => [{ tag: 'img', image_key: k }]);
    const postMsg = await post('post', { zh_cn: { title: 'export fails', content: paragraphs } });

    const deadline = Date.now() + 15000;
    while (messages.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(tickets.length, 1);
    assert.equal(messages.length, 3);
    assert.equal(tickets[0].ticket_id, ticketId);
    assert.equal(tickets[0].app_id, party.appId);
    assert.equal(tickets[0].event_type, 'helpdesk.ticket.created_v1');
    assert.deepEqual(messages.map((m) => m.msg_type), ['text', 'image', 'post']);
    assert.equal(messages[1].content.image_key, keys[0]);
    assert.deepEqual(messages[2].content.image_keys, keys.slice(1));
    assert.ok(images[imageMsg][0].equals(BYTES[0]));
    assert.equal(images[postMsg].length, 3);
    images[postMsg].forEach((b, i) => assert.ok(b.equals(BYTES[i + 1]), `post image ${i}`));
  } finally {
    await c.helpdesk.v1.event.unsubscribe({ data: { events: EVENTS } }, lark.withHelpDeskCredential());
    await server.adminAsync('app', 'events', '--app', party.appId, '--url', '');
    receiver.close();
  }
});
