//! The gateway ↔ view-node contract, `cinder.v1`, generated from `cinder/v1/link.proto`,
//! and the topics API for services outside Cinder, from `cinder/v1/topics.proto`.
//!
//! Generated code, and the one hand-written part of the contract both tiers must agree
//! on: [`credential`], the link token a gateway presents and a view-node checks, and the
//! cluster secret's minimum length. The gateway and the view-node service own every other
//! behaviour. A breaking change to the contract is a new package (`cinder.v2`), never an
//! edit here.

pub mod credential;

/// The largest message either end of a link encodes or decodes, in bytes. Both the
/// gateway's client and the view-node's server are built with it, so the two ends agree
/// by construction: a message one end may send, the other accepts.
///
/// It stays at tonic's default, 4 MiB: a larger limit would let one session's frame take
/// that much more memory on the link and in the gateway's per-socket queue (8 MiB), and
/// a frame larger than that queue could never be delivered anyway. The view-node refuses
/// to send a frame over [`MAX_LINK_FRAME_BYTES`] (that session fails with `phx_error`),
/// so a message over this limit, which would break the whole link, is never sent.
pub const MAX_LINK_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The largest encoded V2 frame one link message carries, either way:
/// [`MAX_LINK_MESSAGE_BYTES`] less room for the message around it (the session key, the
/// field tags and lengths, an `Up`'s trace context).
pub const MAX_LINK_FRAME_BYTES: usize = MAX_LINK_MESSAGE_BYTES - 16 * 1024;

/// The calls to one view-node, whatever carries them: a gRPC channel over the network,
/// or, when the gateway and the view-node share a process (embedded mode), the node's
/// services themselves (`cinder_view_node::Server::local`): the same messages and the
/// same interceptors, with no HTTP/2 codec, socket or connection task between them.
pub type NodeService = tower::util::BoxCloneSyncService<
    tonic::codegen::http::Request<tonic::body::Body>,
    tonic::codegen::http::Response<tonic::body::Body>,
    tonic::transport::Error,
>;

/// The `Render` request header carrying the CSRF token the gateway minted (or found in
/// the browser's cookie) for the page, which the view-node embeds in it.
pub const CSRF_HEADER: &str = "x-cinder-csrf-token";

/// `cinder.v1`: the `ViewNode` and `Topics` services and their messages.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("cinder.v1");
}
