// /form: phx-change validation that only reports touched fields, and phx-submit.
import assert from "node:assert/strict";
import {
  expectJoinOk,
  liveTest,
  startEmbedded,
  textOf,
  useServers,
  visitLive,
  waitPresence,
  waitText,
} from "./harness.mjs";

const env = useServers(startEmbedded);

const NAME = '#signup [name="user[name]"]';
const EMAIL = '#signup [name="user[email]"]';

async function openForm(page) {
  await visitLive(page, "/form");
  const form = await page.$eval("#signup", (f) => ({
    tag: f.tagName,
    change: f.getAttribute("phx-change"),
    submit: f.getAttribute("phx-submit"),
  }));
  assert.deepEqual(form, { tag: "FORM", change: "validate", submit: "save" }, "the #signup form and its bindings");
  await waitPresence(page, "#name-error", false);
  await waitPresence(page, "#email-error", false);
}

async function submit(page) {
  await page.$eval("#signup", (f) => f.requestSubmit());
}

liveTest(env, "a too-short name shows #name-error but no error for the untouched email", async ({ newPage }) => {
  const page = await newPage();
  await openForm(page);
  await page.fill(NAME, "J");
  await waitPresence(page, "#name-error", true);
  assert.equal(await page.$("#email-error"), null, "#email-error is shown although the email field was never touched");
});

liveTest(env, "fixing the name clears #name-error", async ({ newPage }) => {
  const page = await newPage();
  await openForm(page);
  await page.fill(NAME, "J");
  await waitPresence(page, "#name-error", true);
  await page.press(NAME, "o");
  await waitPresence(page, "#name-error", false);
});

liveTest(env, "an email without @ shows #email-error once the email was touched, and fixing it clears it", async ({ newPage }) => {
  const page = await newPage();
  await openForm(page);
  await page.fill(NAME, "Jo");
  await page.fill(EMAIL, "jo.example.com");
  await waitPresence(page, "#email-error", true);
  assert.equal(await page.$("#name-error"), null, "#name-error is shown for the valid name \"Jo\"");
  await page.fill(EMAIL, "jo@example.com");
  await waitPresence(page, "#email-error", false);
});

liveTest(env, "a valid submit shows #signup-ok with the name", async ({ newPage }) => {
  const page = await newPage();
  await openForm(page);
  await page.fill(NAME, "Ada Lovelace");
  await page.fill(EMAIL, "ada@example.com");
  await submit(page);
  await waitPresence(page, "#signup-ok", true);
  const text = await page.$eval("#signup-ok", (el) => el.textContent);
  assert.ok(text.includes("Ada Lovelace"), `#signup-ok does not contain the name: ${JSON.stringify(text)}`);
  assert.equal(await page.$("#name-error"), null);
  assert.equal(await page.$("#email-error"), null);
});

liveTest(env, "the submitted name is rendered as text, HTML-escaped", async ({ newPage }) => {
  const page = await newPage();
  await openForm(page);
  const name = '<i id="injected">Ada</i> & "co"';
  await page.fill(NAME, name);
  await page.fill(EMAIL, "ada@example.com");
  await submit(page);
  await waitPresence(page, "#signup-ok", true);
  const text = await page.$eval("#signup-ok", (el) => el.textContent);
  assert.ok(text.includes(name), `#signup-ok does not show the name verbatim: ${JSON.stringify(text)}`);
  assert.equal(await page.$("#injected"), null, "the name was inserted as HTML");
});

liveTest(env, "a dropped socket keeps what the server knew: the submitted name, and one mount", async ({ session, newPage }) => {
  const page = await newPage();
  const log = session.log(page);
  await openForm(page);
  await page.fill(NAME, "Ada Lovelace");
  await page.fill(EMAIL, "ada@example.com");
  await submit(page);
  await waitPresence(page, "#signup-ok", true);
  await page.fill(NAME, "Grace");
  const since = log.frames.length;
  await page.evaluate(() => {
    window.liveSocket.disconnect(() => window.liveSocket.connect());
  });
  const rejoin = await log.waitForFrame(
    (f) => f.dir === "sent" && f.msg?.[3] === "phx_join" && String(f.msg?.[2]).startsWith("lv:"),
    { since, what: "the view's phx_join on the new socket" },
  );
  await expectJoinOk(log, rejoin);
  // The welcome line lives only on the server: a fresh mount would have lost it.
  await waitPresence(page, "#signup-ok", true);
  const text = await page.$eval("#signup-ok", (el) => el.textContent);
  assert.ok(text.includes("Ada Lovelace"), `#signup-ok lost the name: ${JSON.stringify(text)}`);
  await waitText(page, "#mounts", "1");
  assert.equal(await textOf(page, "#mounts"), "1");
});

