//! HWI 3.2.0's help texts (argparse's, as `hwi -h` and `hwi COMMAND -h` print them on
//! stderr). The usage lines (the text up to the first blank line) also head usage errors.

/// `hwi -h`.
pub const MAIN: &str = r#"usage: hwi [-h] [--device-path DEVICE_PATH] [--device-type DEVICE_TYPE]
           [--password PASSWORD] [--stdinpass]
           [--chain {main,test,regtest,signet,testnet4}] [--debug]
           [--fingerprint FINGERPRINT] [--version] [--stdin] [--interactive]
           [--expert] [--emulators]
           {enumerate,getmasterxpub,signtx,getxpub,signmessage,getkeypool,getdescriptors,displayaddress,setup,wipe,restore,backup,promptpin,togglepassphrase,sendpin,installudevrules}
           ...

Hardware Wallet Interface, version 3.2.0.
Access and send commands to a hardware wallet device. Responses are in JSON format.

options:
  -h, --help            show this help message and exit
  --device-path DEVICE_PATH, -d DEVICE_PATH
                        Specify the device path of the device to connect to
                        (default: None)
  --device-type DEVICE_TYPE, -t DEVICE_TYPE
                        Specify the type of device that will be connected. If
                        `--device-path` not given, the first device of this
                        type enumerated is used. (default: None)
  --password PASSWORD, -p PASSWORD
                        Device password if it has one (e.g. DigitalBitbox)
                        (default: None)
  --stdinpass           Enter the device password on the command line
                        (default: False)
  --chain {main,test,regtest,signet,testnet4}
                        Select chain to work with (default: main)
  --debug               Print debug statements (default: False)
  --fingerprint FINGERPRINT, -f FINGERPRINT
                        Specify the device to connect to using the first 4
                        bytes of the hash160 of the master public key. It will
                        connect to the first device that matches this
                        fingerprint. (default: None)
  --version             show program's version number and exit
  --stdin               Enter commands and arguments via stdin (default:
                        False)
  --interactive, -i     Use some commands interactively. Currently required
                        for all device configuration commands (default: False)
  --expert              Do advanced things and get more detailed information
                        returned from some commands. Use at your own risk.
                        (default: False)
  --emulators           Enable enumeration and detection of device emulators
                        (default: False)

subcommands:
  Commands

  {enumerate,getmasterxpub,signtx,getxpub,signmessage,getkeypool,getdescriptors,displayaddress,setup,wipe,restore,backup,promptpin,togglepassphrase,sendpin,installudevrules}
    enumerate           List all available devices
    getmasterxpub       Get the extended public key for BIP 44 standard
                        derivation paths. Convenience function to get xpubs
                        given the address type, account, and chain type.
    signtx              Sign a PSBT
    getxpub             Get an extended public key
    signmessage         Sign a message
    getkeypool          Get JSON array of keys that can be imported to Bitcoin
                        Core with importmulti
    getdescriptors      Return receive and change descriptors for each
                        supported address type, for import into a wallet.
    displayaddress      Display an address
    setup               Setup a device. Passphrase protection uses the
                        password given by -p. Requires interactive mode
    wipe                Wipe a device
    restore             Initiate the device restoring process. Requires
                        interactive mode
    backup              Initiate the device backup creation process
    promptpin           Have the device prompt for your PIN
    togglepassphrase    Toggle BIP39 passphrase protection
    sendpin             Send the numeric positions for your PIN to the device
    installudevrules    Install and load the udev rule files for the hardware
                        wallet devices
"#;

/// `hwi COMMAND -h`, by command.
pub const COMMANDS: [(&str, &str); 16] = [
    (
        "enumerate",
        r#"usage: hwi enumerate [-h]

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "getmasterxpub",
        r#"usage: hwi getmasterxpub [-h] [--addr-type {legacy,wit,sh_wit,tap}]
                         [--account ACCOUNT]

options:
  -h, --help            show this help message and exit
  --addr-type {legacy,wit,sh_wit,tap}
                        Get the master xpub used to derive addresses for this
                        address type (default: wit)
  --account ACCOUNT     The account number (default: 0)
"#,
    ),
    (
        "signtx",
        r#"usage: hwi signtx [-h] psbt

positional arguments:
  psbt        The Partially Signed Bitcoin Transaction to sign

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "getxpub",
        r#"usage: hwi getxpub [-h] path

positional arguments:
  path        The BIP 32 derivation path to derive the key at

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "signmessage",
        r#"usage: hwi signmessage [-h] message path

positional arguments:
  message     The message to sign
  path        The BIP 32 derivation path of the key to sign the message with

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "getkeypool",
        r#"usage: hwi getkeypool [-h] [--keypool | --nokeypool] [--internal]
                      [--addr-type {legacy,wit,sh_wit,tap} | --all]
                      [--account ACCOUNT] [--path PATH]
                      start end

positional arguments:
  start                 The index to start at.
  end                   The index to end at.

options:
  -h, --help            show this help message and exit
  --keypool             Indicates that the keys are to be imported to the
                        keypool (default: True)
  --nokeypool           Indicates that the keys are not to be imported to the
                        keypool (default: False)
  --internal            Indicates that the keys are change keys (default:
                        False)
  --addr-type {legacy,wit,sh_wit,tap}
                        The address type (and default derivation path) to
                        produce descriptors for (default: wit)
  --all                 Generate addresses for all standard address types
                        (default paths: ``m/{44,49,84}h/0h/0h/[0,1]/*)``
                        (default: False)
  --account ACCOUNT     BIP43 account (default: 0)
  --path PATH           Derivation path, default follows BIP43 convention,
                        e.g. ``m/84h/0h/0h/1/*`` with --addr-type wpkh
                        --internal. If this argument and --internal is not
                        given, both internal and external keypools will be
                        returned. (default: None)
"#,
    ),
    (
        "getdescriptors",
        r#"usage: hwi getdescriptors [-h] [--account ACCOUNT]

options:
  -h, --help         show this help message and exit
  --account ACCOUNT  BIP43 account (default: 0)
"#,
    ),
    (
        "displayaddress",
        r#"usage: hwi displayaddress [-h] (--desc DESC | --path PATH)
                          [--addr-type {legacy,wit,sh_wit,tap}]

options:
  -h, --help            show this help message and exit
  --desc DESC           Output Descriptor. E.g.
                        wpkh([00000000/84h/0h/0h]xpub.../0/0), where 00000000
                        must match --fingerprint and xpub can be obtained with
                        getxpub. See doc/descriptors.md in Bitcoin Core
                        (default: None)
  --path PATH           The BIP 32 derivation path of the key embedded in the
                        address, default follows BIP43 convention, e.g.
                        ``m/84h/0h/0h/1/*`` (default: None)
  --addr-type {legacy,wit,sh_wit,tap}
                        The address type to display (default: wit)
"#,
    ),
    (
        "setup",
        r#"usage: hwi setup [-h] [--label LABEL] [--backup_passphrase BACKUP_PASSPHRASE]

options:
  -h, --help            show this help message and exit
  --label LABEL, -l LABEL
                        The name to give to the device (default: )
  --backup_passphrase BACKUP_PASSPHRASE, -b BACKUP_PASSPHRASE
                        The passphrase to use for the backup, if applicable
                        (default: )
"#,
    ),
    (
        "wipe",
        r#"usage: hwi wipe [-h]

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "restore",
        r#"usage: hwi restore [-h] [--word_count WORD_COUNT] [--label LABEL]

options:
  -h, --help            show this help message and exit
  --word_count WORD_COUNT, -w WORD_COUNT
                        Word count of your BIP39 recovery phrase (options:
                        12/18/24) (default: 24)
  --label LABEL, -l LABEL
                        The name to give to the device (default: )
"#,
    ),
    (
        "backup",
        r#"usage: hwi backup [-h] [--label LABEL] [--backup_passphrase BACKUP_PASSPHRASE]

options:
  -h, --help            show this help message and exit
  --label LABEL, -l LABEL
                        The name to give to the device (default: )
  --backup_passphrase BACKUP_PASSPHRASE, -b BACKUP_PASSPHRASE
                        The passphrase to use for the backup, if applicable
                        (default: )
"#,
    ),
    (
        "promptpin",
        r#"usage: hwi promptpin [-h]

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "togglepassphrase",
        r#"usage: hwi togglepassphrase [-h]

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "sendpin",
        r#"usage: hwi sendpin [-h] pin

positional arguments:
  pin         The numeric positions of the PIN

options:
  -h, --help  show this help message and exit
"#,
    ),
    (
        "installudevrules",
        r#"usage: hwi installudevrules [-h] [--location LOCATION]

options:
  -h, --help           show this help message and exit
  --location LOCATION  The path where the udev rules files will be copied
                       (default: /etc/udev/rules.d/)
"#,
    ),
];

/// The help text of `command` (the main one for `None`).
pub fn text(command: Option<&str>) -> &'static str {
    match command {
        None => MAIN,
        Some(c) => COMMANDS
            .iter()
            .find(|(name, _)| *name == c)
            .map_or(MAIN, |(_, t)| *t),
    }
}

/// The usage lines of `command`'s help (the main ones for `None`), ending in a newline.
pub fn usage(command: Option<&str>) -> &'static str {
    let t = text(command);
    t.find("\n\n").and_then(|i| t.get(..=i)).unwrap_or(t)
}
