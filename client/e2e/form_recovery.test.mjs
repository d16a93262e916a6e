// Form recovery: when the view-node serving /form dies, the page rejoins on the other
// node, which mounts a blank form; the client then replays the form's phx-change with the
// values still in the inputs, and the new session rebuilds the values and the errors.
// The split topology (one gateway, two view-nodes); each attempt starts its own processes.
import assert from "node:assert/strict";
import {
  assertWindowMarker,
  expectJoinOk,
  liveTest,
  mainViewId,
  markWindow,
  startSplit,
  useServers,
  visitLive,
  waitConnected,
  waitPresence,
} from "./harness.mjs";

const env = useServers(null);

const NAME = '#signup [name="user[name]"]';
const EMAIL = '#signup [name="user[email]"]';
const ATTEMPTS = 4;

/** The view-node whose output mentions `viewId` (it logs the topic it joins), if exactly one does. */
function nodeLoggingView(topo, viewId) {
  const hits = topo.viewNodes.map((vn, i) => (vn.output().includes(viewId) ? i : -1)).filter((i) => i >= 0);
  return hits.length === 1 ? hits[0] : null;
}

/** The `event` frame's urlencoded form value, decoded to [key, value] pairs. */
function formPairs(frame) {
  return [...new URLSearchParams(frame.msg[4].value)];
}

// Which node serves a page is decided by rendezvous hashing of its random view id. The
// view-nodes log the topics they join, so the test kills the one that served the page;
// should no log name it, it kills node 0 and starts over when the page was elsewhere.
liveTest(
  env,
  "a touched, invalid form survives the death of its view-node: values and #email-error are recovered by the replayed phx-change",
  async ({ t, session }) => {
    // The killed node's channel crashes before the rejoin.
    session.allowErrors(/view\.crashed/);
    const notes = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const topo = await startSplit({ nodes: 2 });
      const before = session.servers;
      session.servers = () => [...before(), ...topo.servers];
      try {
        const page = await session.newPage(`attempt ${attempt}`);
        const log = session.log(page);
        await visitLive(page, `${topo.url}/form`);
        await page.fill(NAME, "Jo");
        await page.fill(EMAIL, "jo.example.com");
        await waitPresence(page, "#email-error", true);
        assert.equal(await page.$("#name-error"), null, '#name-error is shown for the valid name "Jo"');
        // Blur the email: a focused input keeps its value through any patch, so only an
        // unfocused one shows whether the server sent the values back after the rejoin.
        await page.$eval(EMAIL, (el) => el.blur());
        const errorText = (await page.textContent("#email-error")).trim();

        const id = await mainViewId(page);
        const marker = await markWindow(page);
        const logged = nodeLoggingView(topo, id);
        const victim = logged ?? 0;
        const since = log.frames.length;
        await topo.viewNodes[victim].kill("SIGKILL");

        const topic = `lv:${id}`;
        let rejoin;
        try {
          rejoin = await log.waitForFrame(
            (f) => f.dir === "sent" && f.msg?.[2] === topic && f.msg[3] === "phx_join",
            { since, timeout: 20_000, what: `a rejoin of ${topic} after view-node ${victim} died` },
          );
        } catch (e) {
          if (logged !== null) throw e;
          notes.push(`attempt ${attempt}: the page was not on view-node 0`);
          await page.close().catch(() => {});
          continue;
        }
        const joinReply = await expectJoinOk(log, rejoin, 15_000);
        assert.ok(
          !joinReply.raw.includes("jo.example.com"),
          "the new node's join reply already holds the email: the form was not mounted blank",
        );

        // The client replays phx-change="validate" with the inputs' values, nothing typed.
        const replay = await log.waitForFrame(
          (f) =>
            f.dir === "sent" &&
            f.msg?.[2] === topic &&
            f.msg[3] === "event" &&
            f.msg[4]?.type === "form" &&
            f.msg[4].event === "validate",
          { since: log.frames.indexOf(rejoin), timeout: 10_000, what: "the replayed phx-change after the rejoin" },
        );
        const pairs = formPairs(replay);
        assert.deepEqual(
          pairs.filter(([k]) => !k.includes("_unused_")),
          [
            ["user[name]", "Jo"],
            ["user[email]", "jo.example.com"],
          ],
          "the replayed form values",
        );
        assert.deepEqual(
          pairs.filter(([k]) => k.includes("_unused_")),
          [],
          "the replay marks a touched input as unused",
        );
        const replayReply = await log.waitForFrame(
          (f) => f.dir === "recv" && f.msg?.[1] === replay.msg[1] && f.msg[2] === topic && f.msg[3] === "phx_reply",
          { since: log.frames.indexOf(replay), what: "the reply to the replayed phx-change" },
        );
        assert.equal(replayReply.msg[4].status, "ok", `the replayed phx-change was refused: ${replayReply.raw}`);
        assert.ok(replayReply.raw.includes("jo.example.com"), "the reply to the replay does not render the email");
        assert.ok(replayReply.raw.includes("must contain @"), "the reply to the replay does not render #email-error");

        await waitConnected(page);
        await assertWindowMarker(page, marker, "after its view-node died");
        await waitPresence(page, "#email-error", true);
        assert.equal((await page.textContent("#email-error")).trim(), errorText);
        assert.equal(await page.$("#name-error"), null, "#name-error after the recovery");
        assert.equal(await page.inputValue(NAME), "Jo");
        assert.equal(await page.inputValue(EMAIL), "jo.example.com");
        const attrs = await page.$eval("#signup", (f) => [
          f.querySelector('[name="user[name]"]').getAttribute("value"),
          f.querySelector('[name="user[email]"]').getAttribute("value"),
        ]);
        assert.deepEqual(attrs, ["Jo", "jo.example.com"], "the recovered session renders the values");

        // The recovered session goes on: fix the email and submit.
        await page.fill(EMAIL, "jo@example.com");
        await waitPresence(page, "#email-error", false);
        await page.$eval("#signup", (f) => f.requestSubmit());
        await waitPresence(page, "#signup-ok", true);
        const ok = await page.textContent("#signup-ok");
        assert.ok(ok.includes("Jo"), `#signup-ok does not hold the name: ${JSON.stringify(ok)}`);

        const how = logged !== null ? "it served the page, per its log" : "node 0, no log named the page";
        notes.push(`attempt ${attempt}: killed view-node ${victim} (${how})`);
        t.diagnostic(notes.join("; "));
        return;
      } finally {
        await topo.stop();
      }
    }
    assert.fail(`the page was never placed on the killed view-node: ${notes.join("; ")}`);
  },
  { timeout: 240_000 },
);
