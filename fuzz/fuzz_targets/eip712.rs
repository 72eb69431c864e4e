#![no_main]
#[path = "../targets/eip712.rs"]
mod target;
libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
