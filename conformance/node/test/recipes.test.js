// The README's node:test recipe ("In your test suite"), its helper module as
// printed, beside a small test file that uses it as the helper's comment
// says, in a directory inside conformance/node (so that node_modules
// resolves), run by `node --test` from the project's root (where the
// helper's fixtures path resolves) with the built `helpdesk` first on PATH.
//
// An ephemeral server is always the embedded backend, whatever the pass: the
// run gets none of the HELPDESK_* variables the test command exports (with
// the postgres-s3 pass's HELPDESK_DATABASE_URL, `--ephemeral` refuses to
// start).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.HELPDESK_BIN || path.join(ROOT, 'target', 'debug', 'helpdesk');

// The small test file (ticket.check.js: no `node --test` pattern picks it up
// should a run leave it behind).
const TEST_FILE = `'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const lark = require('@larksuiteoapi/node-sdk');
const { startHelpdesk } = require('./helpdesk');

const TICKET = '7744543483208438777';
const QUIET = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let helpdesk;
before(async () => { helpdesk = await startHelpdesk(); });
after(() => helpdesk.stop());

test('the fixture ticket image downloads byte for byte', async () => {
  const appId = 'cli_a1b2c3d4e5f60718';
  const appSecret = 'acme-app-secret-0123456789';
  const client = new lark.Client({
    appId, appSecret, helpDeskId: '7531651897570195829', helpDeskToken: 'ht-0123456789abcdef0123456789abcdef',
    domain: helpdesk.baseUrl, logger: QUIET,
  });
  const token = await client.auth.tenantAccessToken.internal({ data: { app_id: appId, app_secret: appSecret } });
  assert.equal(token.code, 0, JSON.stringify(token));
  assert.ok(token.tenant_access_token);
  const list = await client.helpdesk.v1.ticketMessage.list(
    { path: { ticket_id: TICKET }, params: { page: 1, page_size: 50 } }, lark.withHelpDeskCredential());
  assert.equal(list.code, 0, JSON.stringify(list));
  const image = list.data.messages.find((m) => m.message_type === 'image');
  const res = await client.helpdesk.v1.ticket.ticketImage(
    { params: { ticket_id: TICKET, msg_id: image.id } }, lark.withHelpDeskCredential());
  const chunks = [];
  for await (const c of res.getReadableStream()) chunks.push(c);
  assert.deepEqual(Buffer.concat(chunks), fs.readFileSync('deploy/fixtures/screenshot.png'));
});
`;

/** The fenced block right after `<!-- recipe: NAME -->` in the README. */
function readmeRecipe(name) {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const found = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?\\n)\`\`\`\\n`).exec(text);
  assert.ok(found, `the README has no ${name} recipe`);
  return found[1];
}

test('the node:test recipe serves the fixtures to the SDK and leaves nothing behind', () => {
  const suite = fs.mkdtempSync(path.join(__dirname, '..', '.recipe-'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'helpdesk-recipe-'));
  try {
    fs.writeFileSync(path.join(suite, 'helpdesk.js'), readmeRecipe('node'));
    fs.writeFileSync(path.join(suite, 'ticket.check.js'), TEST_FILE);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HELPDESK_')));
    env.PATH = `${path.dirname(path.resolve(BIN))}${path.delimiter}${env.PATH || ''}`;
    env.TMPDIR = tmp; // where the server's temporary directory goes
    delete env.NODE_TEST_CONTEXT; // a run of its own, not a child of this one
    const run = spawnSync(process.execPath, ['--test', path.join(suite, 'ticket.check.js')], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^# pass 1$/m, run.stdout);
    assert.match(run.stdout, /^# fail 0$/m, run.stdout);
    assert.deepEqual(fs.readdirSync(tmp), [], 'the server removed its directory');
  } finally {
    fs.rmSync(suite, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
