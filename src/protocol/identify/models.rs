//! Device models from USB product ids.

/// The Ledger model of a USB product id: `product_id >> 8` on current firmware, or one
/// of the legacy ids.
pub fn ledger_model(product_id: u16) -> &'static str {
    match product_id {
        0x0001 => return "Nano S",
        0x0004 => return "Nano X",
        0x0005 => return "Nano S Plus",
        0x0006 => return "Stax",
        0x0007 => return "Flex",
        0x0008 => return "Nano Gen5",
        _ => {}
    }
    match product_id >> 8 {
        0x10 => "Nano S",
        0x40 => "Nano X",
        0x50 => "Nano S Plus",
        0x60 => "Stax",
        0x70 => "Flex",
        0x80 => "Nano Gen5",
        _ => "Ledger",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_models() {
        assert_eq!(ledger_model(0x4015), "Nano X");
        assert_eq!(ledger_model(0x5011), "Nano S Plus");
        assert_eq!(ledger_model(0x1011), "Nano S");
        assert_eq!(ledger_model(0x6005), "Stax");
        assert_eq!(ledger_model(0x7011), "Flex");
        assert_eq!(ledger_model(0x8000), "Nano Gen5");
        assert_eq!(ledger_model(0x0004), "Nano X");
        assert_eq!(ledger_model(0x9999), "Ledger");
    }
}
