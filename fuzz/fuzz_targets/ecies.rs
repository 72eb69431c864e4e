#![no_main]
#[path = "../targets/ecies.rs"]
mod target;
libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
