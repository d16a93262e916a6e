//! Rendezvous (highest random weight) placement of a view id on a view-node.
//!
//! Every gateway scores each live node for a view id and picks the highest score, so all
//! gateways agree on where a session lives without talking to each other, and the dead
//! render and the socket join of one page (same view id) land on the same node. When a
//! node leaves, only the ids it held move (each to its own second choice); when one joins,
//! it takes about `1/n` of the ids from the others.
//!
//! `score(node, id) = xxh3_64(node ‖ 0xff ‖ id)`: the `0xff` separator never occurs in
//! UTF-8, so `("ab", "c")` and `("a", "bc")` hash different inputs.

use xxhash_rust::xxh3::xxh3_64;

/// The score of `node` (its `host:port` address) for `view_id`.
pub fn score(node: &str, view_id: &str) -> u64 {
    let mut input = Vec::with_capacity(node.len() + 1 + view_id.len());
    input.extend_from_slice(node.as_bytes());
    input.push(0xff);
    input.extend_from_slice(view_id.as_bytes());
    xxh3_64(&input)
}

/// The node among `nodes` that holds `view_id`: the highest score, ties broken by the
/// greater address so the answer never depends on the order of `nodes`. `None` when
/// `nodes` is empty.
pub fn place<'a, I>(nodes: I, view_id: &str) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    nodes
        .into_iter()
        .map(|node| (score(node, view_id), node))
        .max()
        .map(|(_, node)| node)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: [&str; 3] = ["10.0.0.1:7100", "10.0.0.2:7100", "10.0.0.3:7100"];

    fn ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("phx-{i:016x}"))
    }

    #[test]
    fn the_same_id_lands_on_the_same_node_whatever_the_order() {
        let reversed: Vec<&str> = NODES.iter().rev().copied().collect();
        for id in ids(1000) {
            let a = place(NODES, &id);
            assert_eq!(a, place(NODES, &id));
            assert_eq!(a, place(reversed.iter().copied(), &id));
        }
    }

    #[test]
    fn no_nodes_no_place() {
        assert_eq!(place([], "phx-x"), None);
    }

    #[test]
    fn ids_spread_evenly_over_three_nodes() {
        let total = 30_000;
        let mut counts = [0usize; 3];
        for id in ids(total) {
            let node = place(NODES, &id).unwrap();
            let index = NODES.iter().position(|n| *n == node).unwrap();
            counts[index] += 1;
        }
        let fair = total / 3;
        for count in counts {
            assert!(
                count.abs_diff(fair) <= fair / 10,
                "{counts:?} is not within ±10% of {fair}"
            );
        }
    }

    #[test]
    fn removing_a_node_moves_only_its_ids() {
        let survivors = [NODES[0], NODES[2]];
        let mut moved = 0;
        for id in ids(30_000) {
            let before = place(NODES, &id).unwrap();
            let after = place(survivors, &id).unwrap();
            if before == NODES[1] {
                moved += 1;
            } else {
                assert_eq!(before, after, "{id} moved off a node that stayed");
            }
        }
        assert!(moved > 0);
    }

    #[test]
    fn the_score_separates_node_from_id() {
        assert_ne!(score("ab", "c"), score("a", "bc"));
    }
}
