//! The Bitcoin calls of a [`Trezor`]: keys, addresses (multisig from a descriptor too),
//! message signing and verifying, and PSBT signing through SignTx, each after the
//! session is ready.

use bitcoin::bip32::{DerivationPath, Fingerprint};

use super::Trezor;
use crate::error::{Error, Result};
use crate::protocol::machine::Status;
use crate::protocol::psbt::raw::RawPsbt;
use crate::protocol::psbt::signing::{SignOptions, Signed};
use crate::protocol::trezor::btc::keys::{self, Coin, DeviceXpub};
use crate::protocol::trezor::btc::message::{self, SignedMessage};
use crate::protocol::trezor::btc::multisig::Multisig;
use crate::protocol::trezor::btc::{descriptor, finish, plan, sign_tx};
use crate::transport::Transport;

impl<T: Transport> Trezor<T> {
    /// The master key fingerprint.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn master_fingerprint(&mut self) -> Result<Fingerprint> {
        self.seed_ready().await?;
        self.run(keys::master_fingerprint()).await
    }

    /// The xpub at `path` (xpub/tpub), the script type chosen by the path's purpose.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn xpub(&mut self, path: &DerivationPath, display: bool) -> Result<DeviceXpub> {
        self.xpub_with(
            path,
            Coin::from_path(path),
            keys::script_type_for(path),
            display,
        )
        .await
    }

    /// The xpub at `path` for `coin` and `script_type`.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn xpub_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        display: bool,
    ) -> Result<DeviceXpub> {
        self.seed_ready().await?;
        let x = self
            .run(keys::get_public_key(path, coin, script_type, display))
            .await?;
        self.status(Status::Done);
        Ok(x)
    }

    /// The single-key address at `path`, the script type chosen by its purpose.
    ///
    /// # Errors
    /// Transport, failure and protocol errors.
    pub async fn address(&mut self, path: &DerivationPath, display: bool) -> Result<String> {
        self.address_with(
            path,
            Coin::from_path(path),
            keys::script_type_for(path),
            None,
            display,
        )
        .await
    }

    /// The address at `path` for `coin` and `script_type`, multisig with `multisig`.
    ///
    /// # Errors
    /// `invalid-input` for a bad multisig; transport, failure and protocol errors.
    pub async fn address_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        multisig: Option<&Multisig>,
        display: bool,
    ) -> Result<String> {
        let multisig = multisig.map(Multisig::to_message).transpose()?;
        self.seed_ready().await?;
        let a = self
            .run(keys::get_address(
                path,
                coin,
                script_type,
                multisig,
                display,
            ))
            .await?;
        self.status(Status::Done);
        Ok(a)
    }

    /// The address `change`/`index` of a multisig `descriptor` (`sh(multi(...))`,
    /// `wsh(sortedmulti(...))`, `sh(wsh(...))` over xpubs, one of them this device's),
    /// checked against the address the host derives from the descriptor.
    ///
    /// # Errors
    /// `invalid-input` for a descriptor that is not such a multisig; `unsupported` when
    /// none of its keys is this device's; `protocol` when the device's address differs;
    /// transport and failure errors.
    pub async fn multisig_address(
        &mut self,
        descriptor: &str,
        change: bool,
        index: u32,
        display: bool,
    ) -> Result<String> {
        let fpr = self.master_fingerprint().await?;
        let probe = descriptor::multisig_address(
            descriptor,
            change,
            index,
            fpr,
            bitcoin::Network::Bitcoin,
        )?;
        let coin = match probe.multisig.xpubs.first().map(|x| x.network) {
            Some(bitcoin::NetworkKind::Test) => Coin::Testnet,
            _ => Coin::Bitcoin,
        };
        let ms = descriptor::multisig_address(descriptor, change, index, fpr, coin.network())?;
        let address = self
            .address_with(&ms.path, coin, ms.script_type, Some(&ms.multisig), display)
            .await?;
        if address != ms.address {
            return Err(Error::protocol(format!(
                "the trezor shows {address} where the descriptor gives {}",
                ms.address
            )));
        }
        Ok(address)
    }

    /// Signs `message` with the key at `path`, as the BIP-137 type of its purpose (see
    /// [`crate::protocol::message`]).
    ///
    /// # Errors
    /// `user-rejected`; transport, failure and protocol errors.
    pub async fn sign_message(
        &mut self,
        path: &DerivationPath,
        text: &[u8],
    ) -> Result<SignedMessage> {
        self.sign_message_with(
            path,
            Coin::from_path(path),
            message::script_type_for(path),
            text,
        )
        .await
    }

    /// Signs `message` with the key at `path` for `coin` and `script_type`.
    ///
    /// # Errors
    /// `user-rejected`; transport, failure and protocol errors.
    pub async fn sign_message_with(
        &mut self,
        path: &DerivationPath,
        coin: Coin,
        script_type: i32,
        text: &[u8],
    ) -> Result<SignedMessage> {
        self.seed_ready().await?;
        let s = self
            .run(message::sign_message(path, coin, script_type, text))
            .await?;
        self.status(Status::Done);
        Ok(s)
    }

    /// Signs `psbt` through SignTx and returns a new PSBT with the verified signatures
    /// and the device's serialized transaction. The caller's PSBT is only read.
    ///
    /// # Errors
    /// `unsupported` / `invalid-input` naming the input the device cannot sign or the
    /// PSBT lacks data for; `user-rejected`; `protocol` when a signature does not
    /// verify; transport errors.
    pub async fn sign_psbt(&mut self, psbt: &RawPsbt, options: &SignOptions) -> Result<Signed> {
        let view = psbt.view()?;
        let fingerprint = self.known_fingerprint().await?;
        let plan = plan::build_replacing(
            &view,
            fingerprint,
            options.network.map(Coin::from_network),
            &options.replaces,
        )?;
        let total = plan.signers.iter().flatten().count();
        self.status(Status::Signing { index: 0, total });
        let result = self.run(sign_tx::sign_tx(plan.clone())).await?;
        let signed = finish::finish(psbt, &view, &plan, result)?;
        self.status(Status::Done);
        Ok(signed)
    }

    /// Asks the device to verify a message signature and show the message.
    ///
    /// # Errors
    /// `device` (code 3) when the device finds the signature invalid; `user-rejected`;
    /// transport and protocol errors.
    pub async fn verify_message(
        &mut self,
        address: &str,
        signature: &[u8],
        text: &[u8],
        coin: Coin,
    ) -> Result<()> {
        self.seed_ready().await?;
        self.run(message::verify_message(address, signature, text, coin))
            .await?;
        self.status(Status::Done);
        Ok(())
    }
}
