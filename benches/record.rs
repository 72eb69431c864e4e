//! Native benchmarks of streaming record encryption (filled in with the record module).

fn main() {}
