#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsigner::fuzzing::sim_safe7(data));
