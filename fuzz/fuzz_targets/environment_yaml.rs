//! environment.yaml's parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = executor::config::environment::EnvironmentFile::parse(&String::from_utf8_lossy(data));
});
