//! Placeholder, replaced by the drafts benchmark.
fn main() {}
