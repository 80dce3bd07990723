// Tickets through their whole life, through the official Node SDK's own typed
// API: list with every filter, update as an agent (its user access token),
// ticket customized fields, answer_user_query, the ticket.updated_v1 event
// and start_service's appointed agents.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const lark = require('@larksuiteoapi/node-sdk');
const {
  Server,
  provision,
  freshParty,
  appOf,
  agentOf,
  agentToken,
  asAgent,
  rejection,
  hintOf,
  QUIET,
} = require('../harness');

const BAD_REQUEST = [400, 154000, 'Bad request, please check your request body'];
const NOT_FOUND = [404, 154004, 'Resource not found'];
const TENANT_TOKEN_REFUSED = [400, 99991663, 'tenant access token not support'];
const USER_TOKEN_REFUSED = [400, 99991668, 'user access token not support'];
const ENCRYPT_KEY = 'node tickets key';
const VERIFICATION_TOKEN = 'node tickets token';

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
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts the call failed with this HTTP status, code and msg; returns the body. */
async function expectError(promise, status, code, msg) {
  const got = await rejection(promise);
  assert.deepEqual([got.status, got.body.code, got.body.msg], [status, code, msg], JSON.stringify(got.body));
  return got.body;
}

/** A user access token is refused as invalid (revoked, expired, disabled agent). */
async function expectUserTokenInvalid(promise) {
  const got = await rejection(promise);
  assert.deepEqual([got.status, got.body.code], [400, 99991668], JSON.stringify(got.body));
}

/** A human-service ticket of guest `openId`; returns its id. */
async function startTicket(c, openId, extra = {}) {
  const res = await c.helpdesk.v1.ticket.startService({ data: { human_service: true, open_id: openId, ...extra } }, HD());
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data.ticket_id;
}

async function getTicket(c, ticketId) {
  const res = await c.helpdesk.v1.ticket.get({ path: { ticket_id: ticketId } }, HD());
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data.ticket;
}

/** PUT /tickets/:id as the agent holding `token`. */
async function updateTicket(c, token, ticketId, data) {
  const res = await c.helpdesk.v1.ticket.update({ path: { ticket_id: ticketId }, data }, lark.withUserAccessToken(token));
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.deepEqual(res.data, {});
}

/** The ticket list for these query parameters. */
async function listTickets(c, params) {
  const res = await c.helpdesk.v1.ticket.list({ params }, HD());
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data;
}

/** The ids a list returns, in its order. */
async function listIds(c, params) {
  return (await listTickets(c, params)).tickets.map((t) => t.ticket_id);
}

/** Waits until the clock is past the next whole second and returns that
 *  second's start in ms: tickets made before it have a smaller created_at
 *  (seconds) than tickets made after. */
async function nextSecond() {
  const boundary = (Math.floor(Date.now() / 1000) + 1) * 1000;
  await sleep(boundary - Date.now() + 150);
  return boundary;
}

/** A dropdown ticket field created by the agent holding `token`; returns its id. */
async function createDropdown(c, token, keyName, tags) {
  const res = await c.helpdesk.v1.ticketCustomizedField.create(
    {
      data: {
        key_name: keyName,
        display_name: `The ${keyName}`,
        position: '1',
        field_type: 'dropdown',
        description: `which ${keyName}`,
        visible: true,
        required: false,
        dropdown_options: { children: tags.map((tag) => ({ tag, display_name: tag.toUpperCase(), children: [] })) },
      },
    },
    lark.withUserAccessToken(token),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.ok(res.data.ticket_customized_field_id, JSON.stringify(res));
  return res.data.ticket_customized_field_id;
}

async function getField(c, fieldId) {
  const res = await c.helpdesk.v1.ticketCustomizedField.get({ path: { ticket_customized_field_id: fieldId } }, HD());
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data;
}

/** A message from the guest side, as the existing suites post one. */
function postText(c, ticketId, text) {
  return c.helpdesk.v1.ticketMessage.create(
    { path: { ticket_id: ticketId }, data: { msg_type: 'text', content: JSON.stringify({ text }) } },
    HD(),
  );
}

/** An http receiver running the SDK's EventDispatcher for `handles`, set as
 *  `party`'s event URL; `close()` unsets it. */
async function eventReceiver(party, handles) {
  const dispatcher = new lark.EventDispatcher({
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    logger: QUIET,
  }).register(handles);
  const receiver = http.createServer(lark.adaptDefault('/webhook/event', dispatcher, { autoChallenge: true }));
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/webhook/event`;
  const out = await server.adminAsync(
    'app', 'events', '--app', party.appId, '--url', url,
    '--encrypt-key', ENCRYPT_KEY, '--verification-token', VERIFICATION_TOKEN,
  );
  assert.equal(out.encrypted, true);
  return {
    async close() {
      await server.adminAsync('app', 'events', '--app', party.appId, '--url', '');
      receiver.close();
    },
  };
}

async function waitFor(condition, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(50);
}

test('the ticket list filters by status, create time, guest name, agent, solved and tags, newest first, in pages', async () => {
  const party = freshParty(server, 'List');
  const c = server.client(party);
  const first = agentOf(server, party, 'First Agent');
  const second = agentOf(server, party, 'Second Agent');
  const guest = (name) => server.admin('user', 'create', '--tenant', party.tenantKey, '--name', name).open_id;
  const alice = guest('Alice Smith');
  const alicia = guest('Alicia Keys');
  const bob = guest('Bob Jones');
  const carol = guest('Carol King');

  // Every ticket names its agent: which one start_service picks by itself is
  // another test's matter.
  const mine = { appointed_agents: [first.id] };
  const before = await startTicket(c, alice, mine);
  const rangeStart = await nextSecond();
  const billing = await startTicket(c, bob, { appointed_agents: [second.id] });
  const refund = await startTicket(c, alicia, mine);
  const pending = await startTicket(c, bob, mine);
  const untouched = await startTicket(c, carol, { appointed_agents: [second.id] });
  const rangeEnd = (await nextSecond()) - 1;
  const afterwards = await startTicket(c, alice, mine);

  await updateTicket(c, second.token, billing, { status: 2, tag_names: ['billing'] });
  await updateTicket(c, first.token, refund, { status: 3, solved: 2, tag_names: ['refund'] });
  await updateTicket(c, first.token, pending, { status: 5, tag_names: ['other'] });

  const all = await listTickets(c, {});
  assert.equal(all.total, 6);
  const allIds = all.tickets.map((t) => t.ticket_id);
  assert.equal(allIds[0], afterwards, 'the newest first');
  assert.equal(allIds[5], before, 'the oldest last');
  assert.deepEqual(new Set(allIds.slice(1, 5)), new Set([billing, refund, pending, untouched]));
  const created = all.tickets.map((t) => t.created_at);
  assert.deepEqual(created, [...created].sort((x, y) => y - x), 'created_at descending');

  const set = async (params) => new Set(await listIds(c, params));
  assert.deepEqual(await set({ status_list: [2, 3] }), new Set([billing, refund]));
  assert.deepEqual(await set({ create_time_start: rangeStart, create_time_end: rangeEnd }), new Set([billing, refund, pending, untouched]));
  assert.deepEqual(await set({ guest_name: 'Alic' }), new Set([before, refund, afterwards]));
  assert.deepEqual(await set({ guest_name: 'alic' }), new Set(), 'guest_name is case-sensitive');
  assert.deepEqual(await set({ agent_id: second.id }), new Set([billing, untouched]));
  assert.deepEqual(await set({ solved: 2 }), new Set([refund]));
  assert.deepEqual(await set({ tags: ['billing', 'refund'] }), new Set([billing, refund]));
  assert.deepEqual(
    await set({ status_list: [2, 3], create_time_start: rangeStart, create_time_end: rangeEnd, agent_id: second.id, tags: ['billing'] }),
    new Set([billing]),
    'the filters combine',
  );

  const page2 = await listTickets(c, { page: 2, page_size: 4 });
  assert.equal(page2.total, 6);
  assert.deepEqual(page2.tickets.map((t) => t.ticket_id), allIds.slice(4, 6));
  const pages = [];
  for (let page = 1; page <= 3; page++) pages.push(...(await listIds(c, { page, page_size: 2 })));
  assert.deepEqual(pages, allIds, 'pages of 2 make up the whole list in its order');
  assert.deepEqual(await listIds(c, { page: 4, page_size: 2 }), []);
});

test('the ticket list refuses a bad page size and a lone create_time_start', async () => {
  const c = server.client(world.a);
  await expectError(c.helpdesk.v1.ticket.list({ params: { page_size: 0 } }, HD()), ...BAD_REQUEST);
  await expectError(c.helpdesk.v1.ticket.list({ params: { page_size: 201 } }, HD()), ...BAD_REQUEST);
  await expectError(c.helpdesk.v1.ticket.list({ params: { create_time_start: Date.now() } }, HD()), ...BAD_REQUEST);
});

test('an agent works a ticket to closed with its user token, and ticket get shows who closed it, the comment, the tags and the field', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Closing Agent');
  const field = await createDropdown(c, agent.token, 'product', ['app', 'web']);
  const id = await startTicket(c, 'ou_closing_guest');

  await updateTicket(c, agent.token, id, { status: 2 });
  const working = await getTicket(c, id);
  assert.equal(working.status, 2);
  assert.ok(working.agents.some((a) => a.id === agent.id), 'status 2 puts the agent on the ticket');
  assert.equal(working.closed_at, 0);
  assert.equal(working.closed_by, undefined);

  await updateTicket(c, agent.token, id, {
    status: 50,
    comment: 'fixed in 2.1',
    tag_names: ['login', 'ios'],
    customized_fields: [{ id: field, value: 'app' }],
  });
  const closed = await getTicket(c, id);
  assert.equal(closed.status, 50);
  assert.ok(closed.closed_at > 0);
  assert.equal(closed.closed_at, closed.updated_at);
  assert.equal(closed.closed_by.id, agent.id);
  assert.equal(closed.closed_by.name, 'Closing Agent');
  assert.equal(closed.comments.content, 'fixed in 2.1');
  assert.deepEqual(closed.tags.map((t) => t.name).sort(), ['ios', 'login']);
  assert.deepEqual(closed.tags.map((t) => t.id).sort(), ['ios', 'login']);
  const value = closed.customized_fields.find((f) => f.id === field);
  assert.deepEqual(
    { value: value.value, key_name: value.key_name, display_name: value.display_name },
    { value: 'app', key_name: 'product', display_name: 'The product' },
  );

  await updateTicket(c, agent.token, id, { status: 2 });
  const reopened = await getTicket(c, id);
  assert.equal(reopened.closed_at, 0, 'reopening clears closed_at');
  assert.equal(reopened.closed_by, undefined, 'reopening clears closed_by');
});

test('a dropdown value that is not an option is refused with a hint naming it', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Dropdown Agent');
  const field = await createDropdown(c, agent.token, 'platform', ['mac', 'linux']);
  const id = await startTicket(c, 'ou_dropdown_guest');
  const body = await expectError(
    c.helpdesk.v1.ticket.update(
      { path: { ticket_id: id }, data: { customized_fields: [{ id: field, value: 'amiga' }] } },
      lark.withUserAccessToken(agent.token),
    ),
    ...BAD_REQUEST,
  );
  assert.match(hintOf(body), /amiga/);
  assert.match(hintOf(body), /platform/);
  assert.deepEqual((await getTicket(c, id)).customized_fields.filter((f) => f.id === field && f.value), [], 'nothing was stored');
});

test('update wants a user token and list a tenant token', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Token Agent');
  const id = await startTicket(c, 'ou_token_guest');
  await expectError(c.helpdesk.v1.ticket.update({ path: { ticket_id: id }, data: { status: 2 } }, HD()), ...TENANT_TOKEN_REFUSED);
  await expectError(c.helpdesk.v1.ticket.list({ params: {} }, asAgent(agent.token)), ...USER_TOKEN_REFUSED);
  assert.equal((await getTicket(c, id)).status, 1, 'the refused update changed nothing');
});

test('a disabled agent’s token is refused until it is enabled again', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Disabled Agent');
  const id = await startTicket(c, 'ou_disabled_guest');
  server.admin('agent', 'disable', '--agent', agent.id);
  await expectUserTokenInvalid(c.helpdesk.v1.ticket.update({ path: { ticket_id: id }, data: { status: 2 } }, lark.withUserAccessToken(agent.token)));
  server.admin('agent', 'enable', '--agent', agent.id);
  await updateTicket(c, agent.token, id, { status: 2 });
});

test('after app revoke-tokens the old user token is refused and a new one works', async () => {
  const party = appOf(server, world.a); // its own app: revoking ends its tenant token too
  const c = server.client(party);
  const agent = agentOf(server, party, 'Revoked Agent');
  const id = await startTicket(server.client(world.a), 'ou_revoked_guest');
  await updateTicket(c, agent.token, id, { status: 2 });
  server.admin('app', 'revoke-tokens', '--app', party.appId);
  await expectUserTokenInvalid(c.helpdesk.v1.ticket.update({ path: { ticket_id: id }, data: { status: 3 } }, lark.withUserAccessToken(agent.token)));
  await updateTicket(c, agentToken(server, agent.id, party), id, { status: 3 });
});

test('a closed ticket refuses a new message', async () => {
  const c = server.client(world.a);
  const agent = agentOf(server, world.a, 'Message Agent');
  const id = await startTicket(c, 'ou_closed_guest');
  assert.equal((await postText(c, id, 'before closing')).code, 0);
  await updateTicket(c, agent.token, id, { status: 50 });
  const body = await expectError(postText(c, id, 'after closing'), ...BAD_REQUEST);
  assert.match(hintOf(body), /reopen/);
});

test('update of another tenant’s ticket is not found', async () => {
  const agent = agentOf(server, world.a, 'Foreign Agent');
  const foreign = await startTicket(server.client(world.b), 'ou_foreign_guest');
  await expectError(
    server.client(world.a).helpdesk.v1.ticket.update({ path: { ticket_id: foreign }, data: { status: 2 } }, lark.withUserAccessToken(agent.token)),
    ...NOT_FOUND,
  );
});

test('ticket customized fields are created, listed in pages, read, patched and deleted', async () => {
  const party = freshParty(server, 'Fields');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Field Agent');
  const ids = [];
  for (const key of ['alpha', 'beta', 'gamma']) ids.push(await createDropdown(c, agent.token, key, ['one', 'two']));

  const first = await c.helpdesk.v1.ticketCustomizedField.list({ params: { page_size: 2 } }, HD());
  assert.equal(first.code, 0, JSON.stringify(first));
  assert.equal(first.data.items.length, 2);
  assert.equal(first.data.has_more, true);
  assert.ok(first.data.next_page_token);
  const second = await c.helpdesk.v1.ticketCustomizedField.list(
    { params: { page_size: 2, page_token: first.data.next_page_token } },
    HD(),
  );
  assert.equal(second.data.items.length, 1);
  assert.equal(second.data.has_more, false);
  assert.equal(second.data.next_page_token, undefined);
  const listed = [...first.data.items, ...second.data.items].map((f) => f.ticket_customized_field_id);
  assert.deepEqual(new Set(listed), new Set(ids), 'the two pages hold the three fields once each');

  const iterated = [];
  for await (const page of await c.helpdesk.v1.ticketCustomizedField.listWithIterator({ params: { page_size: 2 } }, HD())) {
    iterated.push(...page.items.map((f) => f.ticket_customized_field_id));
  }
  assert.deepEqual(iterated, listed, 'the SDK’s own iterator follows next_page_token through both pages');

  const got = await getField(c, ids[0]);
  assert.equal(got.ticket_customized_field_id, ids[0]);
  assert.equal(got.helpdesk_id, party.helpDeskId);
  assert.equal(got.key_name, 'alpha');
  assert.equal(got.display_name, 'The alpha');
  assert.equal(got.field_type, 'dropdown');
  assert.equal(got.position, '1');
  assert.equal(got.visible, true);
  assert.equal(got.required, false);
  assert.equal(got.created_by.id, agent.id);
  assert.match(got.created_at, /^\d{13}$/);
  assert.deepEqual(got.dropdown_options.children.map((o) => o.tag), ['one', 'two']);

  const patched = await c.helpdesk.v1.ticketCustomizedField.patch(
    { path: { ticket_customized_field_id: ids[0] }, data: { display_name: 'Alpha!', description: 'renamed', visible: false, required: true } },
    lark.withUserAccessToken(agent.token),
  );
  assert.equal(patched.code, 0, JSON.stringify(patched));
  const after = await getField(c, ids[0]);
  assert.deepEqual(
    { display_name: after.display_name, description: after.description, visible: after.visible, required: after.required, key_name: after.key_name },
    { display_name: 'Alpha!', description: 'renamed', visible: false, required: true, key_name: 'alpha' },
  );

  const deleted = await c.helpdesk.v1.ticketCustomizedField.delete(
    { path: { ticket_customized_field_id: ids[0] } },
    lark.withUserAccessToken(agent.token),
  );
  assert.equal(deleted.code, 0, JSON.stringify(deleted));
  await expectError(c.helpdesk.v1.ticketCustomizedField.get({ path: { ticket_customized_field_id: ids[0] } }, HD()), ...NOT_FOUND);
  const remaining = await c.helpdesk.v1.ticketCustomizedField.list({ params: { page_size: 20 } }, HD());
  assert.deepEqual(new Set(remaining.data.items.map((f) => f.ticket_customized_field_id)), new Set(ids.slice(1)));
});

test('a duplicate key_name and a tenant token on create are refused', async () => {
  const party = freshParty(server, 'Duplicates');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Duplicate Agent');
  await createDropdown(c, agent.token, 'twice', ['a']);
  await expectError(createDropdown(c, agent.token, 'twice', ['b']), ...BAD_REQUEST);
  await expectError(
    c.helpdesk.v1.ticketCustomizedField.create(
      { data: { key_name: 'tenant', display_name: 'T', position: '1', field_type: 'string', description: '', visible: true, required: false } },
      HD(),
    ),
    ...TENANT_TOKEN_REFUSED,
  );
});

test('customized_fields lists the helpdesk’s ticket fields', async () => {
  const party = freshParty(server, 'Customized');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Customized Agent');
  const field = await createDropdown(c, agent.token, 'region', ['eu', 'us']);
  const res = await c.helpdesk.v1.ticket.customizedFields({ params: { visible_only: true } }, HD());
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.deepEqual(res.data.user_customized_fields, []);
  assert.deepEqual(res.data.ticket_customized_fields.map((f) => [f.ticket_customized_field_id, f.key_name]), [[field, 'region']]);
});

test('answerUserQuery answers for an own ticket and not for another tenant’s', async () => {
  const c = server.client(world.a);
  const own = await startTicket(c, 'ou_query_guest');
  const res = await c.helpdesk.v1.ticket.answerUserQuery(
    { path: { ticket_id: own }, data: { event_id: 'ev_1', faqs: [{ id: 'faq_1', score: 0.9 }] } },
    HD(),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  assert.deepEqual(res.data, {});
  const foreign = await startTicket(server.client(world.b), 'ou_query_guest');
  await expectError(
    c.helpdesk.v1.ticket.answerUserQuery({ path: { ticket_id: foreign }, data: { event_id: 'ev_2', faqs: [] } }, HD()),
    ...NOT_FOUND,
  );
});

test('the EventDispatcher’s helpdesk.ticket.updated_v1 handler gets each update with the old and new status', async () => {
  const party = freshParty(server, 'Events');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Event Agent');
  const events = [
    { type: 'helpdesk.ticket', subtype: 'ticket.created_v1' },
    { type: 'helpdesk.ticket', subtype: 'ticket.updated_v1' },
  ];
  const received = [];
  const receiver = await eventReceiver(party, {
    'helpdesk.ticket.created_v1': async (data) => {
      received.push(data);
    },
    'helpdesk.ticket.updated_v1': async (data) => {
      received.push(data);
    },
  });
  try {
    const sub = await c.helpdesk.v1.event.subscribe({ data: { events } }, HD());
    assert.equal(sub.code, 0, JSON.stringify(sub));
    const id = await startTicket(c, 'ou_event_guest');
    await updateTicket(c, agent.token, id, { status: 2 });
    await updateTicket(c, agent.token, id, { status: 50 });
    await waitFor(() => received.length >= 3);
    assert.deepEqual(
      received.map((e) => e.event_type),
      ['helpdesk.ticket.created_v1', 'helpdesk.ticket.updated_v1', 'helpdesk.ticket.updated_v1'],
      'in order with the ticket’s other events',
    );
    const [, working, closed] = received;
    for (const e of [working, closed]) {
      assert.equal(e.app_id, party.appId);
      assert.equal(e.object.ticket_id, id);
      assert.equal(e.object.helpdesk_id, party.helpDeskId);
      assert.equal(e.object.guest.id.open_id, 'ou_event_guest');
    }
    assert.deepEqual([working.old_object.status, working.object.status], [1, 2]);
    assert.deepEqual([closed.old_object.status, closed.object.status], [2, 50]);
    assert.equal(closed.object.closed_by.id.open_id, agent.id);
    assert.ok(closed.object.closed_at > 0);
    assert.equal(working.object.closed_by, null);
    assert.ok(working.object.agents.some((a) => a.id.open_id === agent.id));
  } finally {
    await c.helpdesk.v1.event.unsubscribe({ data: { events } }, HD());
    await receiver.close();
  }
});

test('start_service puts an appointed agent on the ticket and refuses an id that is not an agent', async () => {
  const party = freshParty(server, 'Appointed');
  const c = server.client(party);
  agentOf(server, party, 'Default Agent');
  const appointed = agentOf(server, party, 'Appointed Agent');
  const id = await startTicket(c, 'ou_appointed_guest', { appointed_agents: [appointed.id] });
  const t = await getTicket(c, id);
  assert.deepEqual(t.agents.map((a) => a.id), [appointed.id]);
  assert.equal(t.agent_owner.id, appointed.id);

  const notAnAgent = server.admin('user', 'create', '--tenant', party.tenantKey, '--name', 'Just A User').open_id;
  const body = await expectError(
    c.helpdesk.v1.ticket.startService({ data: { human_service: true, open_id: 'ou_appointed_guest', appointed_agents: [notAnAgent] } }, HD()),
    ...BAD_REQUEST,
  );
  assert.match(hintOf(body), new RegExp(notAnAgent));
});

test('start_service assigns the first enabled agent when none is appointed', async () => {
  const party = freshParty(server, 'Default');
  const c = server.client(party);
  const disabled = agentOf(server, party, 'Disabled First');
  const enabled = agentOf(server, party, 'Enabled Second');
  server.admin('agent', 'disable', '--agent', disabled.id);
  const t = await getTicket(c, await startTicket(c, 'ou_default_guest'));
  assert.deepEqual(t.agents.map((a) => a.id), [enabled.id]);
});

test('a field is set by key_name, a multi-select dropdown takes a JSON array of options, and a field keeps its key_name and type', async () => {
  const party = freshParty(server, 'Multi');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Multi Agent');
  const multi = await c.helpdesk.v1.ticketCustomizedField.create(
    {
      data: {
        key_name: 'os',
        display_name: 'OS',
        position: '2',
        field_type: 'dropdown',
        description: '',
        visible: false,
        required: false,
        dropdown_allow_multiple: true,
        dropdown_options: { children: ['mac', 'win'].map((tag) => ({ tag, display_name: tag, children: [] })) },
      },
    },
    lark.withUserAccessToken(agent.token),
  );
  assert.equal(multi.code, 0, JSON.stringify(multi));
  const fieldId = multi.data.ticket_customized_field_id;
  const id = await startTicket(c, 'ou_multi_guest');
  await updateTicket(c, agent.token, id, { customized_fields: [{ key_name: 'os', value: '["mac","win"]' }] });
  const value = (await getTicket(c, id)).customized_fields.find((f) => f.key_name === 'os');
  assert.deepEqual(JSON.parse(value.value), ['mac', 'win']);
  assert.equal(value.id, fieldId);
  const body = await expectError(
    c.helpdesk.v1.ticket.update({ path: { ticket_id: id }, data: { customized_fields: [{ key_name: 'os', value: '["mac","beos"]' }] } }, lark.withUserAccessToken(agent.token)),
    ...BAD_REQUEST,
  );
  assert.match(hintOf(body), /beos/);

  for (const data of [{ key_name: 'platform' }, { field_type: 'string' }]) {
    await expectError(
      c.helpdesk.v1.ticketCustomizedField.patch({ path: { ticket_customized_field_id: fieldId }, data }, lark.withUserAccessToken(agent.token)),
      ...BAD_REQUEST,
    );
  }
  assert.deepEqual([(await getField(c, fieldId)).key_name, (await getField(c, fieldId)).field_type], ['os', 'dropdown']);
});

test('the field list filters on visible and the customized_fields list on visible_only', async () => {
  const party = freshParty(server, 'Visible');
  const c = server.client(party);
  const agent = agentOf(server, party, 'Visible Agent');
  const shown = await createDropdown(c, agent.token, 'shown', ['x']);
  const hidden = await createDropdown(c, agent.token, 'hidden', ['y']);
  const patched = await c.helpdesk.v1.ticketCustomizedField.patch(
    { path: { ticket_customized_field_id: hidden }, data: { visible: false } },
    lark.withUserAccessToken(agent.token),
  );
  assert.equal(patched.code, 0, JSON.stringify(patched));
  const listed = async (visible) =>
    (await c.helpdesk.v1.ticketCustomizedField.list({ data: { visible } }, HD())).data.items.map((f) => f.ticket_customized_field_id);
  assert.deepEqual(await listed(true), [shown]);
  assert.deepEqual(await listed(false), [hidden]);
  const customized = async (visibleOnly) =>
    new Set((await c.helpdesk.v1.ticket.customizedFields({ params: { visible_only: visibleOnly } }, HD())).data.ticket_customized_fields.map((f) => f.ticket_customized_field_id));
  assert.deepEqual(await customized(true), new Set([shown]));
  assert.deepEqual(await customized(false), new Set([shown, hidden]));
});

test('start_service assigns the first-created agent when none is appointed, as agent list orders them', async () => {
  const party = freshParty(server, 'Oldest');
  const c = server.client(party);
  // Made within a second or two: the order must not depend on the ids drawn.
  const agents = ['Agent 1', 'Agent 2', 'Agent 3', 'Agent 4', 'Agent 5', 'Agent 6'].map((n) => agentOf(server, party, n));
  const listed = server.admin('agent', 'list', '--helpdesk', party.helpDeskId).agents.map((a) => a.name);
  assert.deepEqual(listed, agents.map((a) => a.name), 'agent list is oldest first');
  const t = await getTicket(c, await startTicket(c, 'ou_oldest_guest'));
  assert.deepEqual(t.agents.map((a) => a.name), ['Agent 1']);
});
