//! One line of Argo CD's application watch stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = executor::argocd::stream::decode_line(data, Some("default"));
    let _ = executor::argocd::stream::decode_line(data, None);
});
