//! Keys and addresses: master fingerprint, xpubs, single-key and multisig addresses.

use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use bitcoin::{Network, NetworkKind};

use crate::error::{Error, Result};
use crate::protocol::trezor::call::Call;
use crate::protocol::trezor::messages::{
    Address, GetAddress, GetPublicKey, HdNodeType, InputScriptType, MultisigRedeemScriptType,
    PublicKey,
};

/// A Trezor `coin_name` for Bitcoin networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Coin {
    /// Mainnet (`Bitcoin`).
    #[default]
    Bitcoin,
    /// Testnet and signet (`Testnet`).
    Testnet,
    /// Regtest (`Regtest`).
    Regtest,
}

impl Coin {
    /// The `coin_name` the firmware knows.
    pub fn name(self) -> &'static str {
        match self {
            Coin::Bitcoin => "Bitcoin",
            Coin::Testnet => "Testnet",
            Coin::Regtest => "Regtest",
        }
    }

    /// The network of its addresses.
    pub fn network(self) -> Network {
        match self {
            Coin::Bitcoin => Network::Bitcoin,
            Coin::Testnet => Network::Testnet,
            Coin::Regtest => Network::Regtest,
        }
    }

    /// The coin of `network`: testnet, testnet4 and signet sign as `Testnet`.
    pub fn from_network(network: Network) -> Coin {
        match network {
            Network::Bitcoin => Coin::Bitcoin,
            Network::Regtest => Coin::Regtest,
            _ => Coin::Testnet,
        }
    }

    /// The coin of a `coin_name`.
    ///
    /// # Errors
    /// `unsupported` for other coins.
    pub fn from_name(name: &str) -> Result<Coin> {
        match name {
            "Bitcoin" => Ok(Coin::Bitcoin),
            "Testnet" => Ok(Coin::Testnet),
            "Regtest" => Ok(Coin::Regtest),
            other => Err(Error::Unsupported(format!("coin {other:?}"))),
        }
    }

    /// The coin a BIP-44-style path is for: coin type 0' is Bitcoin, anything else
    /// Testnet.
    pub fn from_path(path: &DerivationPath) -> Coin {
        match path.into_iter().nth(1) {
            Some(ChildNumber::Hardened { index: 0 }) | None => Coin::Bitcoin,
            Some(_) => Coin::Testnet,
        }
    }
}

/// A path as the firmware's `address_n`.
pub fn address_n(path: &DerivationPath) -> Vec<u32> {
    path.into_iter().map(|c| u32::from(*c)).collect()
}

/// The input script type of a standard purpose: 44' p2pkh, 49' p2sh-p2wpkh, 84'
/// p2wpkh, 86' p2tr; anything else p2pkh (the firmware's default).
pub fn script_type_for(path: &DerivationPath) -> i32 {
    match path.into_iter().next() {
        Some(ChildNumber::Hardened { index: 49 }) => InputScriptType::SPENDP2SHWITNESS,
        Some(ChildNumber::Hardened { index: 84 }) => InputScriptType::SPENDWITNESS,
        Some(ChildNumber::Hardened { index: 86 }) => InputScriptType::SPENDTAPROOT,
        _ => InputScriptType::SPENDADDRESS,
    }
}

/// An xpub from the device, checked against the path asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceXpub {
    /// The key (xpub/tpub version bytes).
    pub xpub: Xpub,
    /// The string the device returned (ypub/zpub when magic was not ignored).
    pub text: String,
    /// The master fingerprint, where the firmware reports it.
    pub root_fingerprint: Option<Fingerprint>,
    /// The account descriptor, where the firmware reports it.
    pub descriptor: Option<String>,
}

/// The node of an xpub as the firmware's HDNodeType.
pub fn node_of(xpub: &Xpub) -> HdNodeType {
    HdNodeType {
        depth: u32::from(xpub.depth),
        fingerprint: u32::from_be_bytes(xpub.parent_fingerprint.to_bytes()),
        child_num: u32::from(xpub.child_number),
        chain_code: xpub.chain_code.to_bytes().to_vec(),
        private_key: None,
        public_key: xpub.public_key.serialize().to_vec(),
    }
}

/// The xpub of an HDNodeType.
///
/// # Errors
/// `protocol` when the node's key or chain code are malformed.
pub fn xpub_of(node: &HdNodeType, network: NetworkKind) -> Result<Xpub> {
    let depth = u8::try_from(node.depth)
        .map_err(|_| Error::protocol(format!("node depth {} is over 255", node.depth)))?;
    let chain: [u8; 32] = node.chain_code.as_slice().try_into().map_err(|_| {
        Error::protocol(format!(
            "chain code of {} bytes where 32 were expected",
            node.chain_code.len()
        ))
    })?;
    let public_key = bitcoin::secp256k1::PublicKey::from_slice(&node.public_key).map_err(|e| {
        Error::protocol(format!("the trezor returned a bad public key: {e}").to_ascii_lowercase())
    })?;
    Ok(Xpub {
        network,
        depth,
        parent_fingerprint: Fingerprint::from(node.fingerprint.to_be_bytes()),
        child_number: ChildNumber::from(node.child_num),
        public_key,
        chain_code: chain.into(),
    })
}

/// The descriptor firmware adds to PublicKey must carry a valid checksum: codec v1
/// has no integrity check of its own, so a reply garbled on the link (packets out of
/// order) is caught here even in a field the caller may not read.
fn check_descriptor(reply: &PublicKey) -> Result<()> {
    if let Some(d) = &reply.descriptor {
        crate::protocol::policy::checksum::strip(d).map_err(|e| {
            Error::protocol(format!("the trezor's account descriptor is garbled: {e}"))
        })?;
    }
    Ok(())
}

fn check_node(node: &HdNodeType, path: &DerivationPath) -> Result<()> {
    let expected = address_n(path);
    if node.depth as usize != expected.len()
        || (!expected.is_empty() && expected.last() != Some(&node.child_num))
    {
        return Err(Error::protocol(format!(
            "the trezor returned a key at depth {} child {} for path m/{path}",
            node.depth, node.child_num
        )));
    }
    Ok(())
}

/// GetPublicKey for `path`: the xpub (xpub/tpub, `ignore_xpub_magic`), checked to be
/// the node at that depth and child number, with the root fingerprint and descriptor
/// the firmware adds.
pub fn get_public_key(
    path: &DerivationPath,
    coin: Coin,
    script_type: i32,
    display: bool,
) -> Call<DeviceXpub> {
    let request = GetPublicKey {
        address_n: address_n(path),
        ecdsa_curve_name: None,
        show_display: Some(display),
        coin_name: Some(coin.name().into()),
        script_type: Some(script_type),
        ignore_xpub_magic: Some(true),
    };
    let path = path.clone();
    Call::simple(&request, move |reply: PublicKey| {
        let node = reply
            .node
            .as_ref()
            .ok_or_else(|| Error::protocol("publickey without its node"))?;
        check_node(node, &path)?;
        check_descriptor(&reply)?;
        let network = NetworkKind::from(coin.network());
        let xpub = xpub_of(node, network)?;
        let parsed = Xpub::from_str(&reply.xpub).map_err(|e| {
            Error::protocol(
                format!("the trezor returned an unreadable xpub: {e}").to_ascii_lowercase(),
            )
        })?;
        if parsed != xpub {
            return Err(Error::protocol(
                "the trezor's xpub string and node differ".to_string(),
            ));
        }
        Ok(DeviceXpub {
            xpub,
            text: reply.xpub,
            root_fingerprint: reply
                .root_fingerprint
                .map(|f| Fingerprint::from(f.to_be_bytes())),
            descriptor: reply.descriptor,
        })
    })
}

/// The master fingerprint: the parent fingerprint of m/0' (every firmware has it),
/// checked against `PublicKey.root_fingerprint` where the firmware sends one.
pub fn master_fingerprint() -> Call<Fingerprint> {
    let request = GetPublicKey {
        address_n: vec![0x8000_0000],
        show_display: Some(false),
        ignore_xpub_magic: Some(true),
        ..Default::default()
    };
    Call::simple(&request, |reply: PublicKey| {
        let node = reply
            .node
            .as_ref()
            .ok_or_else(|| Error::protocol("publickey without its node"))?;
        if node.depth != 1 {
            return Err(Error::protocol(format!(
                "the trezor returned a key at depth {} for m/0'",
                node.depth
            )));
        }
        check_descriptor(&reply)?;
        let parent = Fingerprint::from(node.fingerprint.to_be_bytes());
        // Firmware 1.9.4 / 2.3.5 and later also say it directly; both must agree.
        if let Some(root) = reply.root_fingerprint {
            if Fingerprint::from(root.to_be_bytes()) != parent {
                return Err(Error::protocol(format!(
                    "the trezor's root fingerprint {root:08x} is not the parent of m/0' ({parent})"
                )));
            }
        }
        Ok(parent)
    })
}

/// GetAddress: the address at `path` of `script_type` (with `multisig` for a multisig
/// address), checked to be an address of `coin`.
pub fn get_address(
    path: &DerivationPath,
    coin: Coin,
    script_type: i32,
    multisig: Option<MultisigRedeemScriptType>,
    display: bool,
) -> Call<String> {
    let request = GetAddress {
        address_n: address_n(path),
        coin_name: Some(coin.name().into()),
        show_display: Some(display),
        multisig,
        script_type: Some(script_type),
        ignore_xpub_magic: Some(true),
        chunkify: None,
    };
    Call::simple(&request, move |reply: Address| {
        bitcoin::Address::from_str(&reply.address)
            .ok()
            .and_then(|a| a.require_network(coin.network()).ok())
            .ok_or_else(|| {
                Error::protocol(format!(
                    "the trezor returned {:?}, not a {} address",
                    reply.address,
                    coin.name().to_ascii_lowercase()
                ))
            })?;
        Ok(reply.address)
    })
}
