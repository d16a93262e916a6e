//! The vectors of `phoenix_live_view`'s `assets/test/rendered_test.ts` (v1.2.10), run
//! against the Rust port of `Rendered`, plus the render behaviours the port must keep.
//!
//! Translation notes: `new Rendered("123", diff)` is `Rendered::new(Diff::parse(..))`
//! (no `Rendered.extract`, so a top-level `"r"` is the root flag); `get()` is
//! `to_json()`, which leaves out the client's private `newRender`/`magicId` flags, so
//! they are stripped from the expected trees; expected HTML has the client-added
//! attributes (`data-phx-id`, `data-phx-component`, `data-phx-view`) removed, as the
//! oracle normalizes it. The tests of rendering buffer classes have no counterpart:
//! the port has no pluggable buffer.
#![allow(clippy::unwrap_used, reason = "test code fails loudly")]

use cinder_protocol_client::{Diff, Error, Rendered};
use serde_json::{Value, json};

fn raw(value: &Value) -> Diff {
    Diff::parse(value).unwrap()
}

fn new(value: &Value) -> Rendered {
    Rendered::new(raw(value)).unwrap()
}

/// Drops the client's private `newRender` flags from an expected tree.
fn without_flags(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("newRender");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

/// `{...tree, c: {}}`.
fn with_no_components(mut value: Value) -> Value {
    value.as_object_mut().unwrap().insert("c".into(), json!({}));
    value
}

fn simple_diff1() -> Value {
    json!({
        "0": "cooling", "1": "cooling", "2": "07:15:03 PM",
        "s": [
            "<div class=\"thermostat\">\n  <div class=\"bar ",
            "\">\n    <a href=\"#\" phx-click=\"toggle-mode\">",
            "</a>\n    <span>",
            "</span>\n  </div>\n</div>\n",
        ],
        "r": 1,
    })
}

fn simple_diff_result() -> Value {
    let mut result = simple_diff1();
    result["2"] = json!("07:15:04 PM");
    result
}

fn deep_diff1() -> Value {
    json!({
        "0": {
            "0": {
                "k": {"0": {"0": "user1058", "1": "1"}, "1": {"0": "user99", "1": "1"}, "kc": 2},
                "s": ["        <tr>\n          <td>", " (", ")</td>\n        </tr>\n"],
                "r": 1,
            },
            "s": [
                "  <table>\n    <thead>\n      <tr>\n        <th>Username</th>\n        <th></th>\n      </tr>\n    </thead>\n    <tbody>\n",
                "    </tbody>\n  </table>\n",
            ],
            "r": 1,
        },
        "1": {
            "k": {
                "0": {
                    "0": "asdf_asdf", "1": "asdf@asdf.com", "2": "123-456-7890",
                    "3": "<a href=\"/users/1\">Show</a>",
                    "4": "<a href=\"/users/1/edit\">Edit</a>",
                    "5": "<a href=\"#\" phx-click=\"delete_user\" phx-value=\"1\">Delete</a>",
                },
                "kc": 1,
            },
            "s": [
                "    <tr>\n      <td>", "</td>\n      <td>", "</td>\n      <td>",
                "</td>\n\n      <td>\n", "        ", "\n", "      </td>\n    </tr>\n",
            ],
            "r": 1,
        },
    })
}

fn deep_diff_result() -> Value {
    let mut result = deep_diff1();
    result["0"]["0"]["newRender"] = json!(true);
    result["0"]["0"]["k"] = json!({"0": {"0": "user1058", "1": "2"}, "kc": 1});
    result["0"]["newRender"] = json!(true);
    result
}

fn static_reuse_diff() -> Value {
    json!({
        "0": {
            "k": {
                "kc": 2,
                "0": {"0": "foo", "1": {"k": {"kc": 2, "0": {"0": "0", "1": 1}, "1": {"0": "1", "1": 2}}, "s": 0}},
                "1": {"0": "bar", "1": {"k": {"kc": 2, "0": {"0": "0", "1": 3}, "1": {"0": "1", "1": 4}}, "s": 0}},
            },
            "s": ["\n  <p>\n    ", "\n    ", "\n  </p>\n"],
            "r": 1,
            "p": {"0": ["<span>", ": ", "</span>"]},
        },
        "c": {
            "1": {"0": "index_1", "1": "world", "s": ["<b>FROM ", " ", "</b>"], "r": 1},
            "2": {"0": "index_2", "1": "world", "s": 1, "r": 1},
            "3": {"0": "index_1", "1": "world", "s": 1, "r": 1},
            "4": {"0": "index_2", "1": "world", "s": 3, "r": 1},
        },
        "s": ["<div>", "</div>"],
        "r": 1,
    })
}

const CALLER_ANNOTATION: &str = "<!-- @caller example.ex:1 (app) -->";

// --- mergeDiff --------------------------------------------------------------------------

#[test]
fn merges_a_diff_into_the_rendered_tree() {
    let mut simple = new(&simple_diff1());
    simple
        .merge_diff(raw(&json!({"2": "07:15:04 PM"})))
        .unwrap();
    assert_eq!(simple.to_json(), with_no_components(simple_diff_result()));
}

#[test]
fn merges_stable_position_keyed_updates() {
    let mut deep = new(&deep_diff1());
    deep.merge_diff(raw(
        &json!({"0": {"0": {"k": {"0": {"0": "user1058", "1": "2"}, "kc": 1}}}}),
    ))
    .unwrap();
    assert_eq!(
        deep.to_json(),
        with_no_components(without_flags(deep_diff_result()))
    );
}

#[test]
fn moves_use_pre_merge_positions() {
    let mut rendered = new(&json!({
        "k": {"0": {"0": "first", "1": "unchanged"}, "1": {"0": "second", "1": "old"}, "kc": 2},
        "s": ["", "", ""],
    }));
    rendered
        .merge_diff(raw(
            &json!({"k": {"0": [1, {"1": "updated"}], "1": 0, "kc": 2, "km": true}}),
        ))
        .unwrap();
    assert_eq!(
        rendered.to_json()["k"],
        json!({"0": {"0": "second", "1": "updated"}, "1": {"0": "first", "1": "unchanged"}, "kc": 2})
    );
}

#[test]
fn moves_a_nested_keyed_subtree() {
    let mut rendered = new(&json!({
        "k": {
            "0": {"0": "outer", "1": {"k": {"0": {"0": "first"}, "1": {"0": "second"}, "kc": 2}, "s": ["", ""]}},
            "kc": 1,
        },
        "s": ["", "", ""],
    }));
    rendered
        .merge_diff(raw(&json!({
            "k": {"0": {"1": {"k": {"0": 1, "1": 0, "kc": 2, "km": true}}}, "kc": 1}
        })))
        .unwrap();
    assert_eq!(
        rendered.to_json()["k"]["0"]["1"]["k"],
        json!({"0": {"0": "second"}, "1": {"0": "first"}, "kc": 2})
    );
    assert_eq!(rendered.to_json()["k"]["0"]["0"], json!("outer"));
}

#[test]
fn a_diff_with_statics_replaces() {
    let diff2 = json!({"0": ["c"], "s": ["c"]});
    let mut rendered = new(&json!({"0": ["a"], "1": ["b"]}));
    rendered.merge_diff(raw(&diff2)).unwrap();
    assert_eq!(rendered.to_json(), with_no_components(diff2));
}

#[test]
fn a_nested_diff_with_statics_replaces() {
    let diff2 = json!({"0": {"0": ["c"], "s": ["c"]}});
    let mut rendered = new(&json!({"0": {"0": ["a"], "1": ["b"]}}));
    rendered.merge_diff(raw(&diff2)).unwrap();
    assert_eq!(rendered.to_json(), with_no_components(diff2));
}

#[test]
fn merges_components_considering_links() {
    let mut rendered = new(&json!({}));
    rendered
        .merge_diff(raw(&json!({"c": {"1": {"s": ["c"]}, "2": {"s": 1}}})))
        .unwrap();
    assert_eq!(
        rendered.to_json(),
        json!({"c": {"1": {"s": ["c"]}, "2": {"s": ["c"]}}})
    );
}

#[test]
fn merges_components_considering_old_and_new_links() {
    let mut rendered = new(&json!({"c": {"1": {"s": ["old"]}}}));
    rendered
        .merge_diff(raw(&json!({"c": {
            "1": {"s": ["new"]},
            "2": {"newRender": true, "s": -1},
            "3": {"newRender": true, "s": 1},
        }})))
        .unwrap();
    assert_eq!(
        rendered.to_json(),
        json!({"c": {"1": {"s": ["new"]}, "2": {"s": ["old"]}, "3": {"s": ["new"]}}})
    );
}

#[test]
fn merges_components_whole_tree_considering_old_and_new_links() {
    let diff1 = json!({"c": {"1": {"0": {"s": ["nested"]}, "s": ["old"]}}});

    let mut rendered1 = new(&diff1);
    rendered1
        .merge_diff(raw(&json!({"c": {
            "1": {"0": {"s": ["nested"]}, "s": ["new"]},
            "2": {"0": {"s": ["replaced"]}, "s": -1},
            "3": {"0": {"s": ["replaced"]}, "s": 1},
            "4": {"s": -1},
            "5": {"s": 1},
        }})))
        .unwrap();
    assert_eq!(
        rendered1.to_json(),
        json!({"c": {
            "1": {"0": {"s": ["nested"]}, "s": ["new"]},
            "2": {"0": {"s": ["replaced"]}, "s": ["old"]},
            "3": {"0": {"s": ["replaced"]}, "s": ["new"]},
            "4": {"0": {"s": ["nested"]}, "s": ["old"]},
            "5": {"0": {"s": ["nested"]}, "s": ["new"]},
        }})
    );

    let mut rendered2 = new(&diff1);
    rendered2
        .merge_diff(raw(&json!({"c": {
            "1": {"0": {"s": ["newRender"]}, "s": ["new"]},
            "2": {"0": {"s": ["replaced"]}, "s": -1},
            "3": {"0": {"s": ["replaced"]}, "s": 1},
            "4": {"s": -1},
            "5": {"s": 1},
        }})))
        .unwrap();
    assert_eq!(
        rendered2.to_json(),
        json!({"c": {
            "1": {"0": {"s": ["newRender"]}, "s": ["new"]},
            "2": {"0": {"s": ["replaced"]}, "s": ["old"]},
            "3": {"0": {"s": ["replaced"]}, "s": ["new"]},
            "4": {"0": {"s": ["nested"]}, "s": ["old"]},
            "5": {"0": {"s": ["newRender"]}, "s": ["new"]},
        }})
    );
}

// The TS vectors use `"s": ""`, which the client renders as `undefined`; the port only
// accepts statics that are arrays (or template indices), so they are `[""]` here.
#[test]
fn replaces_a_string_when_a_map_is_returned() {
    let diff2 = json!({"0": {"0": {"0": "val", "s": [""]}, "s": [""]}});
    let mut rendered = new(&json!({"0": {"0": "<button>Press Me</button>", "s": [""]}}));
    rendered.merge_diff(raw(&diff2)).unwrap();
    assert_eq!(rendered.to_json(), with_no_components(diff2));
}

#[test]
fn replaces_a_map_when_a_string_is_returned() {
    let diff2 = json!({"0": {"0": "<button>Press Me</button>", "s": [""]}});
    let mut rendered = new(&json!({"0": {"0": {"0": "val", "s": [""]}, "s": [""]}}));
    rendered.merge_diff(raw(&diff2)).unwrap();
    assert_eq!(rendered.to_json(), with_no_components(diff2));
}

#[test]
fn expands_shared_static_from_cids() {
    let comment = |id: &str, n: &str, s: Value| {
        json!({"0": id, "1": "chris_mccord", "2": "My post", "3": n, "4": "0", "5": n, "6": "0",
               "7": "edit", "8": "delete", "s": s})
    };
    let mount_diff = json!({
        "0": "", "1": "",
        "2": {"0": "new post", "1": "", "2": {"d": [[1], [2]], "s": ["", ""]}, "s": ["h1", "h2", "h3", "h4"]},
        "c": {
            "1": comment("1008", "1", json!(["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"])),
            "2": comment("1007", "2", json!(1)),
        },
        "s": ["f1", "f2", "f3", "f4"],
        "title": "Listing Posts",
    });
    let mut update_diff =
        json!({"2": {"2": {"d": [[3]]}}, "c": {"3": comment("1009", "3", json!(-2))}});
    update_diff["c"]["3"]["2"] = json!("newnewnewnewnewnewnewnew");

    let mut rendered = new(&mount_diff);
    let statics = |r: &Rendered, cid: &str| r.to_json()["c"][cid]["s"].clone();
    assert_eq!(statics(&rendered, "1"), statics(&rendered, "2"));
    rendered.merge_diff(raw(&update_diff)).unwrap();
    let shared = statics(&rendered, "1");
    assert!(shared.is_array());
    assert_eq!(shared, statics(&rendered, "2"));
    assert_eq!(shared, statics(&rendered, "3"));
}

#[test]
fn is_new_fingerprint() {
    assert!(raw(&json!({"s": ["<h2>"]})).is_new_fingerprint());
    assert!(!raw(&json!({})).is_new_fingerprint());
}

#[test]
fn merging_leaves_the_diff_alone() {
    let mut rendered =
        new(&json!({"0": {"0": "one", "s": ["<span>", "</span>"]}, "s": [CALLER_ANNOTATION, ""]}));
    let diff = json!({"0": {"0": "two"}});
    rendered.merge_diff(raw(&diff)).unwrap();
    assert_eq!(diff, json!({"0": {"0": "two"}}));
}

// --- toString ---------------------------------------------------------------------------

#[test]
fn stringifies_a_diff() {
    let mut rendered = new(&simple_diff_result());
    assert_eq!(
        rendered.render().unwrap().trim(),
        "<div class=\"thermostat\">\n  <div class=\"bar cooling\">\n    <a href=\"#\" phx-click=\"toggle-mode\">cooling</a>\n    <span>07:15:04 PM</span>\n  </div>\n</div>"
    );
}

#[test]
fn reuses_static_in_components_and_comprehensions() {
    let mut rendered = new(&static_reuse_diff());
    assert_eq!(
        rendered.render().unwrap().trim(),
        "<div>\n  <p>\n    foo\n    <span>0: <b>FROM index_1 world</b></span><span>1: <b>FROM index_2 world</b></span>\n  </p>\n\n  <p>\n    bar\n    <span>0: <b>FROM index_1 world</b></span><span>1: <b>FROM index_2 world</b></span>\n  </p>\n</div>"
    );
}

#[test]
fn leaves_call_sites_alone() {
    let mut rendered =
        new(&json!({"0": {"s": ["<span>child</span>"]}, "s": [CALLER_ANNOTATION, ""]}));
    assert_eq!(
        rendered.render().unwrap(),
        format!("{CALLER_ANNOTATION}<span>child</span>")
    );
}

// --- behaviours of the port -------------------------------------------------------------

fn extract(value: &Value) -> Diff {
    Diff::extract(value).unwrap().0
}

#[test]
fn templates_resolve_per_diff() {
    let (mut rendered, html) = Rendered::join(extract(&json!({
        "0": {"0": "a", "s": 0}, "1": {"0": "b", "s": 0}, "s": 1,
        "p": {"0": ["<i>", "</i>"], "1": ["<p>", "|", "</p>"]}
    })))
    .unwrap();
    assert_eq!(html, "<p><i>a</i>|<i>b</i></p>");
    // The next diff numbers its templates afresh: 0 is now another template.
    let html = rendered
        .update(extract(
            &json!({"1": {"0": "c", "s": 0}, "p": {"0": ["<b>", "</b>"]}}),
        ))
        .unwrap();
    assert_eq!(html.as_deref(), Some("<p><i>a</i>|<b>c</b></p>"));
    assert_eq!(
        rendered
            .update(extract(&json!({"0": {"0": "x"}})))
            .unwrap()
            .as_deref(),
        Some("<p><i>x</i>|<b>c</b></p>")
    );
}

#[test]
fn an_empty_diff_renders_nothing() {
    let (mut rendered, _) =
        Rendered::join(extract(&json!({"0": "a", "s": ["<p>", "</p>"]}))).unwrap();
    assert_eq!(rendered.update(extract(&json!({}))).unwrap(), None);
    assert_eq!(
        rendered
            .update(extract(&json!({"t": "title only"})))
            .unwrap(),
        None
    );
}

#[test]
fn a_missing_dynamic_renders_undefined() {
    let (_, html) = Rendered::join(extract(&json!({"0": "a", "s": ["<p>", "-", "</p>"]}))).unwrap();
    assert_eq!(html, "<p>a-undefined</p>");
}

#[test]
fn a_root_must_start_with_a_tag() {
    let err = Rendered::join(extract(
        &json!({"0": {"0": "x", "s": ["text ", ""], "r": 1}, "s": ["", ""]}),
    ));
    assert!(matches!(err, Err(Error::Render(m)) if m.starts_with("malformed html")));
    let ok = Rendered::join(extract(
        &json!({"0": {"0": "x", "s": ["\n <!-- c --> <b>", "</b>"], "r": 1}, "s": ["", ""]}),
    ));
    assert!(ok.is_ok());
}

#[test]
fn a_top_level_r_is_the_reply_not_a_root() {
    let (diff, extras) =
        Diff::extract(&json!({"0": "x", "s": ["text ", ""], "r": {"ok": true}})).unwrap();
    assert_eq!(extras.reply, Some(json!({"ok": true})));
    assert_eq!(Rendered::join(diff).unwrap().1, "text x");
}

#[test]
fn moves_without_km_fail_like_the_client() {
    let (mut rendered, _) = Rendered::join(extract(&json!({
        "0": {"k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}, "s": ["<i>", "</i>"]}, "s": ["", ""]
    })))
    .unwrap();
    let err = rendered.update(extract(&json!({"0": {"k": {"0": 1, "1": 0, "kc": 2}}})));
    assert!(matches!(err, Err(Error::Render(_))), "{err:?}");
}

#[test]
fn keyed_count_cuts_and_grows() {
    let (mut rendered, html) = Rendered::join(extract(&json!({
        "0": {"k": {"0": {"0": "a"}, "1": {"0": "b"}, "2": {"0": "c"}, "kc": 3}, "s": ["<i>", "</i>"]}, "s": ["", ""]
    })))
    .unwrap();
    assert_eq!(html, "<i>a</i><i>b</i><i>c</i>");
    let html = rendered
        .update(extract(&json!({"0": {"k": {"0": 2, "kc": 1, "km": true}}})))
        .unwrap();
    assert_eq!(html.as_deref(), Some("<i>c</i>"));
    let html = rendered
        .update(extract(&json!({"0": {"k": {"1": {"0": "d"}, "kc": 2}}})))
        .unwrap();
    assert_eq!(html.as_deref(), Some("<i>c</i><i>d</i>"));
    let html = rendered
        .update(extract(&json!({"0": {"k": {"kc": 0}}})))
        .unwrap();
    assert_eq!(html.as_deref(), Some(""));
}

#[test]
fn a_new_root_template_drops_the_components() {
    let (mut rendered, html) = Rendered::join(extract(&json!({
        "0": 1, "s": ["<div>", "</div>"], "c": {"1": {"0": "x", "s": ["<b>", "</b>"], "r": 1}}
    })))
    .unwrap();
    assert_eq!(html, "<div><b>x</b></div>");
    assert_eq!(
        rendered
            .update(extract(&json!({"s": ["<p></p>"]})))
            .unwrap()
            .as_deref(),
        Some("<p></p>")
    );
    assert!(rendered.component_ids().is_empty());
}

#[test]
fn components_only_diffs_render_their_components() {
    let (mut rendered, _) = Rendered::join(extract(&json!({
        "0": 1, "1": 2, "s": ["<div>", "", "</div>"],
        "c": {"1": {"0": "x", "s": ["<b>", "</b>"], "r": 1}, "2": {"0": "y", "s": 1, "r": 1}}
    })))
    .unwrap();
    let html = rendered
        .update(extract(&json!({"c": {"2": {"0": "z"}}})))
        .unwrap();
    assert_eq!(html.as_deref(), Some("<div><b>x</b><b>z</b></div>"));
    // `componentToString` requires a tag even without "r".
    let err = rendered.update(extract(
        &json!({"c": {"3": {"0": "w", "s": ["text ", ""]}}}),
    ));
    assert!(matches!(err, Err(Error::Render(_))), "{err:?}");
}

#[test]
fn orphaned_components_are_found_and_pruned() {
    let (mut rendered, _) = Rendered::join(extract(&json!({
        "0": 1, "s": ["<div>", "</div>"],
        "c": {"1": {"0": 2, "s": ["<b>", "</b>"], "r": 1}, "2": {"s": ["<i></i>"], "r": 1}, "3": {"s": ["<u></u>"]}}
    })))
    .unwrap();
    assert_eq!(rendered.orphan_component_ids(), vec![3]);
    rendered.update(extract(&json!({"0": "gone"}))).unwrap();
    assert_eq!(rendered.orphan_component_ids(), vec![1, 2, 3]);
    rendered.prune_components(&[1, 2, 3]);
    assert!(rendered.component_ids().is_empty());
}

#[test]
fn a_missing_component_fails() {
    let err = Rendered::join(extract(&json!({"0": 7, "s": ["<div>", "</div>"]})));
    assert!(matches!(err, Err(Error::Render(m)) if m.contains("7")));
}

#[test]
fn stream_entries_are_dropped_once_rendered() {
    let (mut rendered, html) = Rendered::join(extract(&json!({
        "0": {"k": {"0": {"0": "m-1", "1": "hi"}, "kc": 1}, "s": ["<li id=\"", "\">", "</li>"],
              "stream": ["messages", [["m-1", -1, null, false]], [], false]},
        "s": ["<ul phx-update=\"stream\">", "</ul>"]
    })))
    .unwrap();
    assert_eq!(
        html,
        "<ul phx-update=\"stream\"><li id=\"m-1\">hi</li></ul>"
    );
    assert_eq!(rendered.take_streams().len(), 1);
    assert_eq!(
        rendered.render().unwrap(),
        "<ul phx-update=\"stream\"></ul>"
    );
    let html = rendered
        .update(extract(&json!({"0": {"k": {"0": {"0": "m-2", "1": "yo"}, "kc": 1},
                                       "stream": ["messages", [["m-2", -1, null, false]], [], false]}})))
        .unwrap();
    assert_eq!(
        html.as_deref(),
        Some("<ul phx-update=\"stream\"><li id=\"m-2\">yo</li></ul>")
    );
}
