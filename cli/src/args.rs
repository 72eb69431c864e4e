//! The clap argument schema: the global options, subcommands and their flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ehrchain::record::DEFAULT_SEGMENT_SIZE;

/// The command line: the global I/O options and one subcommand.
#[derive(Parser)]
#[command(
    name = "ehrchain",
    version,
    about = "ehrchain protocol tool: records, ECIES, accounts, signatures, certificates"
)]
pub(crate) struct Cli {
    /// Where the input comes from and the output goes.
    #[command(flatten)]
    pub(crate) io: IoArgs,
    /// The subcommand to run.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The global `-i`/`-o` options shared by every subcommand.
#[derive(Args)]
pub(crate) struct IoArgs {
    /// Read input from FILE instead of stdin.
    #[arg(short = 'i', long = "input", global = true, value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
    /// Write output to FILE instead of stdout (only if the command succeeds).
    #[arg(short = 'o', long = "output", global = true, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// The top-level subcommands.
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Encrypt a record (Tink AES-GCM-HKDF streaming); prints the ciphertext's SHA-256 hex as stderr's last line.
    Encrypt(StreamArgs),
    /// Decrypt a record; with --expect-hash, also check the ciphertext's SHA-256.
    Decrypt {
        /// The key, associated data and segment size.
        #[command(flatten)]
        stream: StreamArgs,
        /// Expected SHA-256 of the ciphertext (the anchored `eh`), hex.
        #[arg(long, value_name = "HEX")]
        expect_hash: Option<String>,
    },
    /// ECIES-encrypt the input to a public key (eciesjs/eciespy format).
    Seal {
        /// Recipient's public key, 33 or 65 bytes hex.
        #[arg(long, value_name = "PUBKEY_HEX")]
        to: String,
    },
    /// ECIES-decrypt the input with a secret key.
    Open {
        /// Recipient's 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        secret: String,
    },
    /// Print the EIP-55 address of a secret key.
    Address {
        /// 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        secret: String,
    },
    /// Print the public key of a secret key (compressed unless --uncompressed).
    Pubkey {
        /// 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        secret: String,
        /// Print the 65-byte uncompressed form.
        #[arg(long)]
        uncompressed: bool,
    },
    /// Sign the input as an EIP-191 personal message; prints the 65-byte signature.
    SignMessage {
        /// 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        secret: String,
    },
    /// Print the address that signed the input as an EIP-191 personal message.
    RecoverMessage {
        /// 65-byte signature, hex.
        #[arg(long, value_name = "HEX")]
        signature: String,
    },
    /// EIP-712 typed data (eth_signTypedData_v4 JSON on the input).
    #[command(subcommand)]
    TypedData(TypedDataCommand),
    /// Doctor certificates (EIP-712, signed by the health authority).
    #[command(subcommand)]
    Cert(CertCommand),
    /// The registry contract on an Ethereum chain (JSON-RPC at --rpc).
    Chain(ChainArgs),
}

/// The `chain` subcommand: the RPC endpoint and what to do on the chain.
#[derive(Args)]
pub(crate) struct ChainArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:8545",
        global = true
    )]
    pub(crate) rpc: String,
    /// The chain subcommand to run.
    #[command(subcommand)]
    pub(crate) command: ChainCommand,
}

/// The registry and the account that sends a transaction to it.
#[derive(Args)]
pub(crate) struct Sender {
    /// Registry address.
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) registry: String,
    /// Sender's secret key, hex: the authority's for register and revoke; for
    /// authorise use a one-time account, since the sender is public.
    #[arg(long, value_name = "HEX")]
    pub(crate) secret: String,
}

/// The subcommands of `chain`.
#[derive(Subcommand)]
pub(crate) enum ChainCommand {
    /// Deploy the registry from a solc artifact; prints {registry, authority, txHash, block, gasUsed}.
    Deploy {
        /// Deployer's secret key, hex (pays gas).
        #[arg(long, value_name = "HEX")]
        secret: String,
        /// The health authority (default: the deployer).
        #[arg(long, value_name = "ADDRESS")]
        authority: Option<String>,
        /// Compiled contract (node chain/compile.js).
        #[arg(
            long,
            value_name = "PATH",
            default_value = ".tmp/contracts/EhrRegistry.json"
        )]
        artifact: PathBuf,
    },
    /// Register the certificate JSON on the input (authority's key).
    Register {
        /// The registry and the sending account.
        #[command(flatten)]
        sender: Sender,
    },
    /// Revoke a certificate by serial (authority's key).
    Revoke {
        /// The registry and the sending account.
        #[command(flatten)]
        sender: Sender,
        /// Serial to revoke.
        #[arg(long, value_name = "N")]
        serial: u64,
    },
    /// Anchor a record R1 = {T1, commitment, eh} as the certified doctor of
    /// --serial; prints {txId, eh, serial, commitment, anchorSalt, block, gasUsed}.
    Anchor {
        /// The registry and the sending account (the certified doctor's).
        #[command(flatten)]
        sender: Sender,
        /// SHA-256 of the ciphertext, hex.
        #[arg(long, value_name = "HEX")]
        eh: String,
        /// Record type Ty1 (printable ASCII, at most 32 bytes), hidden in the commitment.
        #[arg(long = "type", value_name = "TEXT", default_value = "")]
        record_type: String,
        /// Record time T1, Unix seconds.
        #[arg(long, value_name = "UNIX")]
        time: u64,
        /// Serial of the sender's certificate.
        #[arg(long, value_name = "N")]
        serial: u64,
        /// The patient's account address, bound in the commitment.
        #[arg(long, value_name = "ADDRESS")]
        patient: String,
        /// The commitment's 32-byte salt, hex (default: fresh random; seal it in the handoff).
        #[arg(long, value_name = "HEX")]
        salt: Option<String>,
    },
    /// Mark a record deleted (its anchorer or the authority).
    Delete {
        /// The registry and the sending account.
        #[command(flatten)]
        sender: Sender,
        /// SHA-256 of the ciphertext, hex.
        #[arg(long, value_name = "HEX")]
        eh: String,
    },
    /// Grant a record to a doctor: sign the pass as the patient and post
    /// Trans = (R, ST, C1) from the sending account; prints {txId, seq, calldataBytes}.
    Authorise {
        /// The registry and the sending account (a one-time account or relayer keeps grants unlinked).
        #[command(flatten)]
        sender: Sender,
        /// The doctor's protocol public key A, hex.
        #[arg(long, value_name = "PUBKEY_HEX")]
        doctor_key: String,
        /// Hospital H1 of the record.
        #[arg(long, value_name = "TEXT")]
        hospital: String,
        /// Record time T1.
        #[arg(long, value_name = "UNIX")]
        time: u64,
        /// The patient's per-record secret k_t, hex (32 bytes).
        #[arg(long, value_name = "HEX")]
        mask_key: String,
        /// SHA-256 of the record's ciphertext, as anchored.
        #[arg(long, value_name = "HEX")]
        eh: String,
        /// The anchor commitment's salt (from the handoff), hex.
        #[arg(long, value_name = "HEX")]
        salt: String,
        /// Record type Ty1 (from the handoff).
        #[arg(long = "type", value_name = "TEXT", default_value = "")]
        record_type: String,
        /// The patient's account secret key, hex: signs the pass.
        #[arg(long, value_name = "HEX")]
        patient_secret: String,
    },
    /// Print, one JSON line each, the authorisations addressed to a protocol
    /// key, each checked against its record's anchor (a refused one carries
    /// `refused: <code>` instead of the record's fields).
    Scan {
        /// Registry address.
        #[arg(long, value_name = "ADDRESS")]
        registry: String,
        /// The doctor's protocol secret a, hex.
        #[arg(long, value_name = "HEX")]
        protocol_secret: String,
        /// First block to scan (the registry's deployment block).
        #[arg(long, value_name = "N", default_value_t = 0)]
        from_block: u64,
        /// Last block (default: the latest).
        #[arg(long, value_name = "N")]
        to_block: Option<u64>,
        /// Blocks per eth_getLogs request.
        #[arg(long, value_name = "N", default_value_t = 5000)]
        page: u64,
        /// Also print the opened pass's k_t (a secret) so the record can be unmasked.
        #[arg(long)]
        reveal_mask_key: bool,
    },
    /// Print the registry's status of a record: anchored, by whom, when, deleted.
    Status {
        /// Registry address.
        #[arg(long, value_name = "ADDRESS")]
        registry: String,
        /// SHA-256 of the ciphertext, hex.
        #[arg(long, value_name = "HEX")]
        eh: String,
    },
    /// Print a certificate's on-chain status.
    CertStatus {
        /// Registry address.
        #[arg(long, value_name = "ADDRESS")]
        registry: String,
        /// Serial.
        #[arg(long, value_name = "N")]
        serial: u64,
    },
    /// Print the eh anchored by a transaction (tx_id).
    Eh {
        /// Registry address.
        #[arg(long, value_name = "ADDRESS")]
        registry: String,
        /// The anchoring transaction's hash.
        #[arg(long, value_name = "HEX")]
        tx: String,
    },
}

/// The options of the streaming record encryption.
#[derive(Args)]
pub(crate) struct StreamArgs {
    /// Record key K_P, 16 or 32 bytes hex.
    #[arg(long, value_name = "HEX")]
    pub(crate) key: String,
    /// Associated data, hex (default: empty).
    #[arg(long, value_name = "HEX", default_value = "")]
    pub(crate) aad: String,
    /// Ciphertext segment size in bytes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEGMENT_SIZE)]
    pub(crate) segment_size: u32,
}

/// The subcommands of `typed-data`.
#[derive(Subcommand)]
pub(crate) enum TypedDataCommand {
    /// Print the 32-byte EIP-712 signing hash.
    Hash,
    /// Sign; prints the 65-byte signature.
    Sign {
        /// 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        secret: String,
    },
    /// Print the signer's address.
    Recover {
        /// 65-byte signature, hex.
        #[arg(long, value_name = "HEX")]
        signature: String,
    },
}

/// The subcommands of `cert`.
#[derive(Subcommand)]
pub(crate) enum CertCommand {
    /// Issue a certificate; prints its JSON.
    Issue {
        /// The health authority's 32-byte secret key, hex.
        #[arg(long, value_name = "HEX")]
        authority_secret: String,
        /// The doctor's Ethereum address.
        #[arg(long, value_name = "ADDRESS")]
        doctor: String,
        /// The doctor's protocol public key A, hex (33 or 65 bytes).
        #[arg(long, value_name = "PUBKEY_HEX")]
        protocol_key: String,
        /// The doctor's hospital.
        #[arg(long, value_name = "TEXT")]
        hospital: String,
        /// Start of validity, Unix seconds.
        #[arg(long, value_name = "UNIX")]
        valid_from: u64,
        /// End of validity (exclusive), Unix seconds.
        #[arg(long, value_name = "UNIX")]
        valid_until: u64,
        /// Serial number.
        #[arg(long, value_name = "N")]
        serial: u64,
    },
    /// Verify the certificate JSON on the input; exit 0 only if valid.
    Verify {
        /// The health authority's address.
        #[arg(long, value_name = "ADDRESS")]
        authority: String,
        /// Time of the check, Unix seconds.
        #[arg(long, value_name = "UNIX")]
        at: u64,
        /// Treat the certificate as revoked (status read from the registry).
        #[arg(long)]
        revoked: bool,
    },
}
