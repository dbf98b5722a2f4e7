#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| big_brother_fuzz::entries::heartbeat(data));
