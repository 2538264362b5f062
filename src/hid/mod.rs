//! What a HID or USB interface is: HID report descriptors, and device models from
//! USB product ids.

pub mod models;
pub mod report_descriptor;
