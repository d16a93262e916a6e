//! The gateway ↔ view-node contract, `cinder.v1`, generated from `cinder/v1/link.proto`,
//! and the topics API for services outside Cinder, from `cinder/v1/topics.proto`.
//!
//! Generated code, and the one hand-written part of the contract both tiers must agree
//! on: [`credential`], the link token a gateway presents and a view-node checks, and the
//! cluster secret's minimum length. The gateway and the view-node service own every other
//! behaviour. A breaking change to the contract is a new package (`cinder.v2`), never an
//! edit here.

pub mod credential;

/// `cinder.v1`: the `ViewNode` and `Topics` services and their messages.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("cinder.v1");
}
