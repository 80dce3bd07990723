// The real helpdesk binary on an ephemeral port over a fresh data dir,
// provisioned through `helpdesk admin`, as an operator would.
'use strict';

const { spawn, execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { promisify } = require('node:util');
const lark = require('@larksuiteoapi/node-sdk');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.HELPDESK_BIN || path.join(ROOT, 'target', 'debug', 'helpdesk');
const DEMO_IMAGES = path.join(ROOT, 'crates', 'helpdesk-cli', 'demo');
const LOG_ID = /^\d{14}[0-9A-F]{20}$/;
/** The SDK logs every error it throws; the assertions speak for themselves. */
const QUIET = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

class Server {
  constructor() {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'helpdesk-node-'));
    this.logPath = path.join(this.dataDir, 'server.log');
    this.port = 0;
  }

  start() {
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(BIN, ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`], {
      stdio: ['ignore', 'pipe', log],
    });
    return new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: this.proc.stdout });
      lines.on('line', (line) => {
        if (line.startsWith('helpdesk listening on ')) {
          this.base = line.split(' ').pop();
          this.port = Number(this.base.split(':').pop());
          resolve();
        }
      });
      this.proc.on('exit', (code) => reject(new Error(`helpdesk serve exited (${code}); see ${this.logPath}`)));
    });
  }

  async stop() {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`helpdesk serve exited with ${code}`);
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  admin(...args) {
    return JSON.parse(execFileSync(BIN, ['admin', '--data-dir', this.dataDir, ...args], { encoding: 'utf8' }));
  }

  /** `admin` without blocking this process: for commands that call back
   *  into it (an event URL's verification). */
  async adminAsync(...args) {
    const { stdout } = await promisify(execFile)(BIN, ['admin', '--data-dir', this.dataDir, ...args]);
    return JSON.parse(stdout);
  }

  /** An SDK client of `party` against this server. */
  client(party, extra = {}) {
    return new lark.Client({
      appId: party.appId,
      appSecret: party.appSecret,
      helpDeskId: party.helpDeskId,
      helpDeskToken: party.helpDeskToken,
      domain: this.base,
      logger: QUIET,
      ...extra,
    });
  }

  tokenRequests() {
    return fs
      .readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('path=/open-apis/auth/v3/tenant_access_token/internal')).length;
  }

  cleanup() {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Tenants A and B, each with a custom app and a helpdesk; A also has a store
 *  app and an app without a helpdesk scope. */
function provision(server) {
  const tenants = {};
  for (const name of ['A', 'B']) {
    const key = server.admin('tenant', 'create', '--name', name).tenant_key;
    tenants[name] = { key, helpdesk: server.admin('helpdesk', 'create', '--tenant', key, '--name', name) };
  }
  const party = (t, extra = []) => {
    const app = server.admin('app', 'create', '--tenant', t.key, '--name', 'conformance', ...extra);
    return {
      tenantKey: t.key,
      appId: app.app_id,
      appSecret: app.app_secret,
      helpDeskId: t.helpdesk.helpdesk_id,
      helpDeskToken: t.helpdesk.helpdesk_token,
    };
  };
  return {
    a: party(tenants.A),
    b: party(tenants.B),
    aStore: party(tenants.A, ['--kind', 'store']),
    aNoHelpdeskScope: party(tenants.A, ['--scope', 'im:resource']),
  };
}

/** A tenant of its own with a helpdesk and a custom app: for a test that
 *  counts what a helpdesk holds, or that revokes an app's tokens. */
function freshParty(server, name) {
  const tenantKey = server.admin('tenant', 'create', '--name', name).tenant_key;
  const helpdesk = server.admin('helpdesk', 'create', '--tenant', tenantKey, '--name', name);
  return { tenantKey, ...appOf(server, { tenantKey, helpDeskId: helpdesk.helpdesk_id, helpDeskToken: helpdesk.helpdesk_token }) };
}

/** Another custom app of `party`'s tenant, over the same helpdesk. */
function appOf(server, party) {
  const app = server.admin('app', 'create', '--tenant', party.tenantKey, '--name', 'conformance');
  return { ...party, appId: app.app_id, appSecret: app.app_secret };
}

/** An agent of `party`'s helpdesk and its user access token for `party`'s app. */
function agentOf(server, party, name) {
  const agent = server.admin('agent', 'create', '--helpdesk', party.helpDeskId, '--name', name);
  return { id: agent.agent_id, name, token: agentToken(server, agent.agent_id, party) };
}

/** A new user access token of agent `agentId` for `party`'s app. */
function agentToken(server, agentId, party) {
  return server.admin('agent', 'token', '--agent', agentId, '--app', party.appId).user_access_token;
}

/** The SDK's options for a call as the agent holding `userToken`, with the
 *  helpdesk credential too: `lark.withAll` would drop one of them (lodash
 *  merge loses Symbol keys). */
function asAgent(userToken) {
  return { lark: { ...lark.withUserAccessToken(userToken).lark, ...lark.withHelpDeskCredential().lark } };
}

/** What the server answered to a call the SDK threw on: {status, body}
 *  (the JSON body, read from a stream if the method downloads). */
async function rejection(promise) {
  let error;
  let result;
  try {
    result = await promise;
  } catch (e) {
    error = e;
  }
  if (!error || !error.response) {
    // A binary method that unexpectedly succeeded holds an open stream:
    // release it, or the process would not end.
    if (!error) destroyDownload(result);
    throw new Error(`the call did not fail with an HTTP answer: ${error || 'it succeeded'}`);
  }
  const raw = error.response.data;
  const body = typeof raw?.pipe === 'function' ? JSON.parse((await readAll(raw)).toString('utf8')) : raw;
  return { status: error.response.status, body };
}

/** The `hint` of an error body (`error.details[{key: "hint"}]`). */
function hintOf(body) {
  return (body.error?.details || []).find((d) => d.key === 'hint')?.value;
}

/** The bytes and headers a binary method (faqImage, image.get, ticketImage)
 *  answered. On an HTTP error its JSON body, an unconsumed stream, is read
 *  (else the process would not end) and thrown as the message. */
async function download(promise) {
  let res;
  try {
    res = await promise;
  } catch (e) {
    const raw = e.response?.data;
    if (typeof raw?.pipe === 'function') {
      const text = (await readAll(raw)).toString('utf8');
      throw new Error(`HTTP ${e.response.status}: ${text}`);
    }
    throw e;
  }
  return { bytes: await readAll(res.getReadableStream()), headers: res.headers };
}

function destroyDownload(result) {
  if (typeof result?.getReadableStream === 'function') {
    try {
      result.getReadableStream().destroy();
    } catch (_) {
      // already consumed
    }
  }
}

async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

module.exports = {
  Server,
  provision,
  freshParty,
  appOf,
  agentOf,
  agentToken,
  asAgent,
  rejection,
  hintOf,
  readAll,
  download,
  DEMO_IMAGES,
  LOG_ID,
  QUIET,
};
