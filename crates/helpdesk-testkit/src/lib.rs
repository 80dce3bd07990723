//! What every test suite of helpdesk shares, in one kit:
//!
//! - [`backend`]: the backend under test (embedded, or PostgreSQL + S3),
//!   chosen by the environment that `scripts/test` sets for each pass, and
//!   the storage a data dir names on it (re-exported at the root);
//! - [`in_process`]: the server in the test's own process, for the
//!   server's suites;
//! - [`binary`]: the `helpdesk` binary as real processes, for the CLI's,
//!   with a [`fault_proxy`] to put in front of it;
//! - [`receiver`]: an app's event receiver that opens deliveries with code
//!   of its own;
//! - [`party`]: the app and helpdesk a suite calls with;
//! - [`images`]: bytes that sniff as images;
//! - [`photos`]: real images with a camera's metadata (GPS, orientation,
//!   make), and readers of what an image still holds;
//! - [`clamd`]: a real clamd with signatures of the test's own.
//!
//! A suite imports the module it drives the server through:
//! `use helpdesk_testkit::binary::*;`.

pub mod backend;
pub mod binary;
pub mod clamd;
pub mod fault_proxy;
pub mod images;
pub mod in_process;
pub mod party;
pub mod photos;
pub mod receiver;

pub use backend::*;
pub use clamd::{Clamd, EICAR, EICAR_SIGNATURE};
