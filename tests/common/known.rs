//! Known values the tests compare with: keys, fingerprints and addresses of the two test
//! seeds, computed outside hwsigner by embit 0.8.0 (`tests/python/known_values.py`
//! prints this list), so that a mistake in the crate's own derivation (`Seed`,
//! `derive_address`, which the simulators and the host checks share) cannot hide itself.
#![allow(dead_code)]

pub const SPECULOS_FPR: &str = "f5acc2fd";
pub const TREZOR_FPR: &str = "5c9e228d";
pub const TREZOR_FPR_PASSPHRASE_TREZOR: &str = "4b854ccf";
pub const SPECULOS_84_1_0: &str = "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P";
pub const SPECULOS_86_1_0: &str = "tpubDDKYE6BREvDsSWMazgHoyQWiJwYaDDYPbCFjYxN3HFXJP5fokeiK4hwK5tTLBNEDBwrDXn8cQ4v9b2xdW62Xr5yxoQdMu1v6c7UDXYVH27U";
pub const SPECULOS_48_1_0_2: &str = "tpubDFAqEGNyad35aBCKUAXbQGDjdVhNueno5ZZVEn3sQbW5ci457gLR7HyTmHBg93oourBssgUxuWz1jX5uhc1qaqFo9VsybY1J5FuedLfm4dK";
pub const SPECULOS_84_1_0_1_9: &str = "tpubDHZnBTboqkbrGtRgf992Bnuk4xQk8YBKxxb6x72DQ4Z526jft6gGCkpfw55Ufg6SrfqY9vsU9cLKNrTiLkTsW4dn65U6u9z9JtdLUEkwCKy";
pub const SPECULOS_44_0_0_0_0_TEST: &str = "tpubDHA12zj1B43GTRBUQKf1eMNV3B8QexFs1CPTKfjhz9XokbEFME4RvDDAH8t5jwjYjWvUt6XQefL5P4uctFba9Y4wA8UJeB74dg5WgxdbP1y";
pub const SPECULOS_44_0_0_0_0_MAIN: &str = "xpub6GnNWkuKTn5pBczcx8fvSS37i42kfZkoTZo9y7gZeEmv1JZYH1DLmmYL36oJDSnJwcPaGX1Y7ZW2gtR1VPkLG6ce6XizxeSq3iV6vyw6p7X";
pub const SPECULOS_44_0_0_0_1_MAIN: &str = "xpub6GnNWkuKTn5pCyQo8P7Nrihkb5pVc7dZvt2Gxd7eFTMNMrJZbpAzbnZuB2ACQ7mmbnTgi7cARWm7Ucw4F1tQYdUF6g4Grbt3EpZZBmBbahd";
pub const SPECULOS_84_0_0_MAIN: &str = "xpub6DUYn4moKgHkK2d7bXX3mHTPb6XQwRVFRMdZ6ZwLS5u3nonGVpJiFeZiQkHutwdFqxKP75jex8gvVm7ed4euYeDtMnoiF1Cz1z4CeBJYWin";
pub const TREZOR_84_1_0: &str = "tpubDCZB6sR48s4T5Cr8qHUYSZEFCQMMHRg8AoVKVmvcAP5bRw7ArDKeoNwKAJujV3xCPkBvXH5ejSgbgyN6kREmF7sMd41NdbuHa8n1DZNxSMg";
pub const TREZOR_48_1_0_2: &str = "tpubDEGquuorgFNbDrg8vepq1HnaV2mgQu9TcSBgBYfXw4AX8VMgkWqvkxHNuJmiah8iVnA3Hgj4cSvaGAXEnq814yC6hMEreckLsd7zyLL3o76";
pub const SPECULOS_WPKH_0_0: &str = "tb1qzdr7s2sr0dwmkwx033r4nujzk86u0cy6fmzfjk";
pub const SPECULOS_WPKH_0_3: &str = "tb1qxvvwqnawdsf2ljcqn35u64l9kfgy4e45v3uamu";
pub const SPECULOS_WPKH_0_4: &str = "tb1q738p97ezlrkwy3sz7umrpu62037x95leext42g";
pub const TREZOR_WPKH_0_3: &str = "tb1qtxe2hdle9he8hc2xds7yl2m8zutjksv02jf0er";
pub const TREZOR_WPKH_0_4: &str = "tb1qglrv8xrtf68udd5pxj2pxyq5s7lynq20h9nq2w";
pub const TEST_POLICY_ADDRESSES_1: [(&str, &str); 7] = [
    ("wpkh", "tb1qyvvdvmuylm6ufp6ljvas8rwx8qcl3ksnad49ra"),
    ("sh(wpkh)", "2MzJsgTiiftrfBkcdrvb29N42bsgK1wdJY8"),
    ("pkh", "mhKsh7EzJo1gSU1vrpyejS1qsJAuKyaWWg"),
    (
        "tr",
        "tb1p6evrfq0pnz2wvvptph8zvrye20aad8jlsmh2rr02rqgn9skm4hmqks9rnm",
    ),
    (
        "wsh(sortedmulti)",
        "tb1qyg53u433mzvchjqflc9clhjj8xhl74mxzxf64yrhckqehmnr753s4rha4e",
    ),
    (
        "miniscript",
        "tb1qkupq83fkpgp3gmjzwj2xl4uzwtrk2kq0flk9ylyurgs7dwdrjz3q994hl4",
    ),
    (
        "tr script path",
        "tb1p4x77pprnre7xawlr2e9quavxvrlcttnvveffm893ham7y96pswcqr67ltr",
    ),
];
pub const SPECULOS_HELLO_84_1_0_0_0: &str =
    "J5tQFWKd0pKCuTDRUH8blWakNdB6/0NnbcVTi/v5yQlBHKwgtIJjr4pVMJslk8v+NkTRi5NAf2YjSENppufWcIs=";
pub const SPECULOS_HELLO_84_1_0_1_9: &str =
    "KD2SSi2jCzMKcHcyItK3vT3v1g0kid9OsaG5WM87YJxgT5Q5VA9zNcqLNs9Ma+uDEvnMPeDol8jMHsK45clBM6o=";
pub const SPECULOS_HELLO_44_0_0_0_0: &str =
    "H81afVDv2XckYHHK+O24ivWYOLgy9Cx4gfHWOOHtPQd1Fato0FRpcmQiEgKRyIMdMHh99YEiDvFFUdLlZO5w/kA=";
pub const TREZOR_HELLO_84_1_0_0_0: &str =
    "KMR4vga8k96oxhrM+oiSTDcKTYbGTM24WLk2+phto0ftAkM9xvdmL2GVvYLIXNaNMCKp+R8NxVCBWFd/CuwbVZE=";
pub const SPECULOS_84_1_EVEN: [&str; 50] = [
    "tpubDCtKfsNyRhULjZ9XMS4VKKtVcPdVDi8MKUbcSD9MJDyjRu1A2ND5MiipozyyspBT9bg8upEp7a8EAgFxNxXn1d7QkdbL52Ty5jiSLcxPt1P",
    "tpubDCtKfsNyRhULqmA2ipSxuPBarGHJchjfSpGQ7yvMWaSytUdRVqV2ygjZM4PLmtR1a2THeSGN6zNDQrihiVWBXyssWTpKZNSW84SyY5XV8LB",
    "tpubDCtKfsNyRhULvmbbdzz4bz8AtuAVE5kSHLHaDRoxmshDuKUKJfB2aCUTNysLYqPHXCDEhfPQLsP3R6jwJ2TN8LFShgNiAk92qcR7TBwKjHi",
    "tpubDCtKfsNyRhULzjdBhFf52YkFk7R27vxbzyEoZvjmD9oiT8Ro8tFvkGhTpQUhQWHDbjFpKaGsKumw3Gtna3Q5CU9hWC8jmGuNdy3ncy24MQb",
    "tpubDCtKfsNyRhUM6Ru8cVHsxJt61iop8QoXyMpE2467Y7jhsCMbeVxwSYG763woxLmwxEb6E7iU54XRvpZE5x4AwkGzyfEXG3r5uUwwrj87BgC",
    "tpubDCtKfsNyRhUMCFTJ6JXfQe7nGFgG1f4g2HvjrErm48uCxHnf9EkKiga7vvd4Xa6854f2w7TVqSSV6KQ2jEzu7HCcUWD1GWR4g2wdxqvSbKU",
    "tpubDCtKfsNyRhUMGfbM3YzGt7LTR2mF8YH6LVcGnZPznUozXKhzdPUTtaQUpS5g8k8QttjxBHzxLJUepMzXe3x5fzmsZRmgY2yS5oUnmVnbe2y",
    "tpubDCtKfsNyRhUML8K4o7RvDYXmvHia2votYwkemhwm6dmGiXjViM2Dk34nz64ugTY6sGDdC2ND4oHyPLmnuYzTFbwesNy1Mrxt1C53aUtokmJ",
    "tpubDCtKfsNyRhUMTAmdYLwSbsKLo4n5dzsiPXE3Lhvrgj4hyAePfsP7v1c2EQcx1T8r1kVH8ezFRCcZuEYQQTGgP5MzBHhY8x52UfqyumGe6WT",
    "tpubDCtKfsNyRhUMYD1ANrwtTpa1CcV97Ysgf4tbMJz3bS8NhhpBsMLNyLvFPV1ybqKPJYcgdw1L6eS6nPDCvuN9D8mYaHaPKfgXWD2PZbi783t",
    "tpubDCtKfsNyRhUMbRJ4Q9X67MikRMRKViypXUWwDdTiDqDoS1pCRTuaJLWkEVqrbmB2WkvVp1Di5DsSxCQwhjumZKeTBtyCniJETdnCkgMjXu3",
    "tpubDCtKfsNyRhUMim1hQ6YP8G6JU6QDfYkLrxbDjAAW7geDFwtm79Sjm4nppXr1TbsXrQoU9EbZjS18YS5jFaA8u8mwtzCg9M4cuNityurMraD",
    "tpubDCtKfsNyRhUMp3TmR1DoKcNpS9fskWeQmPLxABmEDpaAZfrokwXr7g5E1cbyBCo5uKTY9VKoihSjoBxFCT31SxxqLEy1MZT9HpF95GChihZ",
    "tpubDCtKfsNyRhUMu4Ex1muYBtDmQRxWw7jR7L5TfTRA5Sdo7jcPC62ZK7ja8VZJahBEYJ71pp1HR24z4D5RSyfGGLAchLwrF5nVncq4HFh4yfj",
    "tpubDCtKfsNyRhUMwzuwhxqboEzmTthQX8FBAAZpnq5iS9iDwcBk8R84F5wMXZFDQQzxaDWJDwGkFm6bJXKVNnAZcDzhw8oADvSogob4dZiSPWF",
    "tpubDCtKfsNyRhUN4iPv3WZXxucH8ccDcSKhHuKKc6uGvrfHX8dQFykcCeyDNC3vix5GyBgd54wvsS6vnpJajjUiQLWEz7ydvTjrWF7BqqWA2u1",
    "tpubDCtKfsNyRhUN9GvXmGd5giiNrUrhEdBnWAmHf8TeRj1nr9s6m6jvW4tVZ4i4AsRgdyK2zCreQkfGAh26JvvspyKsyn6HagsiiG3hpj4dxSe",
    "tpubDCtKfsNyRhUNDDDuMQGYSftcvRvF1hpwBVfY38AKmrTZTUAmuA4kaS2V6qUyiZHpduWcbecyy9F2xU3mCNvvX8xfrBTtFALP9pNLCDG7RkN",
    "tpubDCtKfsNyRhUNJtzM14mShu4ra7Tcn7CW8LidU8K9ddLsNwfShNb7K9B7rgXSpCPZ4GqAP3AVZXytFzDKeoHdD2m1iid7qWEi7b3qRWNSkEN",
    "tpubDCtKfsNyRhUNQaoJ9JXxDhtKAaoznxyhV4HVpfK4eQfqekHCBUtYnBC1dacXYqu44JyfPb5iisT88kSqn1s1TKwZAC54gbdKmcZmstQgf54",
    "tpubDCtKfsNyRhUNWBtkcgidQbD5ZwD1uYpMcAB298SHx6KRgQ21w7nh5DwoWrzHFf5bgSC7biCFVp9G3vzjoZV1ZbpBZs2DkkLqYnAFWpwMwBT",
    "tpubDCtKfsNyRhUNaBFquotZAjVqetv97Kf3XHSWegaSM4B515h2FKgnHsoF4FG23Fy5JEa8PRFXzX4rE4H6W75WB3WHtkqWcGT2zKaMUJu8bzN",
    "tpubDCtKfsNyRhUNgHZA1oRPfP9nRPrCfjzMwX6Jnq679NRCt4VgQTkYyEzBQnVUBkKh6MCi9jtYiVAHkadL411pbqHxkhfksfzpF3v5ciFypdk",
    "tpubDCtKfsNyRhUNmaHnSE2KKgJ2VGpACDg3MGAhwDKkF9EM6t14pcv39zcUk4vzpT24rg4n2uXFVVt1MLNCzX4nvCv2rRUMDjWnWARrmHYD1eF",
    "tpubDCtKfsNyRhUNqFZ4DBLhbq5SnUKfYndMmnvhJjaYcxtHhhfjeDrK6k7vvkQh261HmXtqLDf5KFj5MdWrJ9XHZkUYwNfoucPwL8xiCNN8C1r",
    "tpubDCtKfsNyRhUNvn1A7hdeY5qAkBDBy57ZJ3iTqM3vQUjFGcZPRzcNJiLS8pLJHE5fj8V43xjmXzaE391Vdogr5HCEvj1XcMid9miREe8xaAW",
    "tpubDCtKfsNyRhUP3FWzCyhwUxcuAPh1jjZSQzHFeKqkAYngvGrTMKnqURWH5rydMt4TrE6azxg2K5wVwPvRQLe4DDMHXhr3GrzhUq4wSM5YUqn",
    "tpubDCtKfsNyRhUP7gdhVbVR3hFFbrup65HmaGS21PFRrWVDm8SYZR4cfg6tEY8JLE6JAT1zaaRQvcQAkgYz4aFrvy9SdPgQCCj2mTvAjy6hPFp",
    "tpubDCtKfsNyRhUPCwtPs6syo9hoxPXrc7i4i6vBJxrDxQDe8w2SxBrYoKEPt7Vc9m2uLZ2noh9CAJDojX9Vb9A8vyJmrcLYLXMDGotTMwk8g9T",
    "tpubDCtKfsNyRhUPJ3ygMTa5a4NvijXtP61iM4KG917nAeRLrJAcpJnavD6WkxHiW3VHgrYmWwVhNrT2abNoGZqEUKgd9eh98QRrnEuYFXdMm7i",
    "tpubDCtKfsNyRhUPNoBeFJvqTisTfUP6KV877XNDroFKpQdVoBMkWrzveipBHXkrmPLn9eFm73agyipgDBYM93nK5uj4SgM8uGskTRgcjWmfE6w",
    "tpubDCtKfsNyRhUPUjakY7fQtnTUyW3So44EPKGL8Cz9cwd2y7X2j4VjqdPteGQnKk6tHJoAXQLbq2oLEJXSjjVLZKvr5yFaKnV4qNKPP6iMWnR",
    "tpubDCtKfsNyRhUPYv137Bmk6awBozubLBVVnEZzbRJYh3RRxx2MXYG8c2FGMbva6y3TwKzDMCCnANwT8i7CeVRnWNJmTRhei6HaUW7hSNYVFbW",
    "tpubDCtKfsNyRhUPf5oWYSZKdMzYRE9yjrWgHafShVuahG58hwQPn1GxaBkMCxjoRm1iBjB7KjdihMriAReT22JMfxWvVodQq4wsLswnJjtdRQq",
    "tpubDCtKfsNyRhUPjk1SaSUbgASMnmfieHQTp8FmwyN2a4P1Ri13qf2U4pPqqVCc1nGdteM2PdTHpFmEY7T2UTrVQCLQBCjWD7rZdCm5i3Fvt26",
    "tpubDCtKfsNyRhUPpZFhp2X6949FZ4aSyPASVXABHst97bfyQGNvFQvck2xM21U3sxt1sgTbwg86nhjJWduSBRt1o2rCUBfspdVWCHoKgWQzWpE",
    "tpubDCtKfsNyRhUPvEnF21px5DMbBEN2QGX1kT8ZLSS6c6oZMN7L1oM8rmGnYMiArvJMWDQwzPFKSjpW1K9S1T9o7j53XpKJ63MKGNDwmpoNTQ6",
    "tpubDCtKfsNyRhUQ1H2bEnbmrQP9bZvBoFum9vy591bzJx9ka3uHTVVxxEa2giTErUCMcDZirShz8Wit5bAhuiskHcRKKeZg1xrZDFS3cVRJgcB",
    "tpubDCtKfsNyRhUQ5RKQTDsYe2ZkyamGBBa7ZGNMEQAu1v4ErkcogaKiuoxqbHnQFgGUQtVGkDsLPMnfx4WvHQyhBs8Vkq6XtUVZrPGqar9XAF3",
    "tpubDCtKfsNyRhUQAZpYiy6ahqrZuQsEKwcbCSvgZM3YqNrXFMenZyYXB9mZpEbYwt3VzuvpYKNefptSh3968Pv6VGXToSiv3ZgXsgnLkD1xX3y",
    "tpubDCtKfsNyRhUQGRs3wWf4LLtBjanG4PFNu6hKavSzWUSexT5UZnDpd8stbMMNwvhczDFRoFuARRTcT6e1yitnG9nrDNDZSZnAiL3dBdFrr8i",
    "tpubDCtKfsNyRhUQKirH5NHaKubLnxR2LGpiNkcWt45PFGBBLRTQAok3j6WQLrTcD2mJvTViUs2Jbi1HwcVZGuss1EnE9WdcT6Ce1hH6KDZ2oFz",
    "tpubDCtKfsNyRhUQRCi2AD6zJ6PdxxybLcgsdjucTqp4oRdPb9vLuUw8bYCmbqz46STaBb7vY2VF3EwgbfL8fAXqt5wwo4va6Xg6yX88s6Z7zdj",
    "tpubDCtKfsNyRhUQWLsXEBHGPTFUPNhLWXQqABbYGcDxkeHzssUERMv767ssPmB4c946qraDdRWK6TkriHNzNjSycymLXQj7KUnuzDKLTQieiyK",
    "tpubDCtKfsNyRhUQb2QVrRcajWW7saX6LTjaCDfqFrbzNLqWfkTJJaEkpZywxjFLxY8SUqVeEVhh6iykPdxpqn4ZNe33SNPZgFrmEU8c1effwDT",
    "tpubDCtKfsNyRhUQhDvpcqbumWHnYSSS8fAuwxDcVYSwwxxtd35soTn3wJuAAQerYQETopL5P8XHK8DwTmkTxMK9Pfuyvh67RTaCfbt3s6UXGvz",
    "tpubDCtKfsNyRhUQo4BiiK5hCCJHKJZ7Hbe76GsW4dDYVbBzQNokBZLHFRxP1DNsK7J5WWrRSwWBZDVeDcs879k6hvsZZMsK5gnnm6XFffnStn1",
    "tpubDCtKfsNyRhUQtNubR96ymADSHYkNQycBjpM2vVdx6kfGZojPrmNx8FG4EXEWcswwjPGDv2AFwi8DwqDXS8PNDD3L8TSaZD9uSQWpKnz1Mvk",
    "tpubDCtKfsNyRhUQxfEYoB88grh5k6nq9cqyrhZVNT3QqmwfdDcYqpywxafTh6djaNW6tw5wmNkTBMdb5MmJvyK2ZiTwD7v3W4zvoLrcBv4jSEa",
    "tpubDCtKfsNyRhUR3Tji4p1PqHk3tydPMdKgCtfuNes542ny9G2VyJLdE1y6iMQMNJBRygwxb5PHTR5tWcBhPWAeLsDeVXZiKE1HxPko3f1Mxvk",
];
