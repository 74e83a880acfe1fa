//! Domain rules of Heron: the parts of the experiment tracker that do not depend on storage or transport.
#![forbid(unsafe_code)]

pub mod query;
