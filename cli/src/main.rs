//! `ehrchain`: the command-line tool for hospital-side scripting and batch work.
//!
//! Every subcommand reads its input from stdin or `-i FILE` and writes to
//! stdout or `-o FILE`. With `-o`, output goes to a temporary file in the same
//! directory that is renamed into place only on success, so a failed run
//! leaves no output file. Failures exit with status 1 and one line on stderr:
//! `error[<Code>]: <message>`. Hex output is `0x`-prefixed lowercase.
//! Secret arguments (`--key`, `--secret`, `--authority-secret`,
//! `--protocol-secret`, `--mask-key`) also accept `env:NAME` and `file:PATH`.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ehrchain::cert::{Certificate, CertificateBody};
use ehrchain::record::{Decryptor, Encryptor, RecordKey, DEFAULT_SEGMENT_SIZE};
use ehrchain::{ecies, hex, Address, Error, PublicKey, SecretKey, Signature, TypedData};

/// Size of the pieces read from the input when streaming records.
const CHUNK: usize = 1 << 16;

#[derive(Parser)]
#[command(
    name = "ehrchain",
    version,
    about = "ehrchain protocol tool: records, ECIES, accounts, signatures, certificates"
)]
struct Cli {
    #[command(flatten)]
    io: IoArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct IoArgs {
    /// Read input from FILE instead of stdin.
    #[arg(short = 'i', long = "input", global = true, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write output to FILE instead of stdout (only if the command succeeds).
    #[arg(short = 'o', long = "output", global = true, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Encrypt a record (Tink AES-GCM-HKDF streaming); prints the ciphertext's SHA-256 hex as stderr's last line.
    Encrypt(StreamArgs),
    /// Decrypt a record; with --expect-hash, also check the ciphertext's SHA-256.
    Decrypt {
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

#[derive(Args)]
struct ChainArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:8545",
        global = true
    )]
    rpc: String,
    #[command(subcommand)]
    command: ChainCommand,
}

/// The registry and the account that sends a transaction to it.
#[derive(Args)]
struct Sender {
    /// Registry address.
    #[arg(long, value_name = "ADDRESS")]
    registry: String,
    /// Sender's secret key, hex: the authority's for register and revoke; for
    /// authorise use a one-time account, since the sender is public.
    #[arg(long, value_name = "HEX")]
    secret: String,
}

impl Sender {
    fn registry(&self) -> Result<Address, Failure> {
        Ok(Address::parse(&self.registry)?)
    }

    /// Sends `data` to the registry from this account and waits for the receipt.
    fn send(
        &self,
        client: &ehrchain_rpc::Client,
        data: &[u8],
    ) -> Result<ehrchain::chain::log::Receipt, Failure> {
        let key = SecretKey::from_hex(&secret_text(&self.secret)?)?;
        Ok(client.send(&key, Some(&self.registry()?), data)?)
    }
}

#[derive(Subcommand)]
enum ChainCommand {
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
        #[command(flatten)]
        sender: Sender,
    },
    /// Revoke a certificate by serial (authority's key).
    Revoke {
        #[command(flatten)]
        sender: Sender,
        /// Serial to revoke.
        #[arg(long, value_name = "N")]
        serial: u64,
    },
    /// Anchor a record R1 = {T1, Ty1, eh}; prints {txId, eh, block, gasUsed}.
    Anchor {
        #[command(flatten)]
        sender: Sender,
        /// SHA-256 of the ciphertext, hex.
        #[arg(long, value_name = "HEX")]
        eh: String,
        /// Record type Ty1 (ASCII, at most 32 bytes).
        #[arg(long = "type", value_name = "TEXT", default_value = "")]
        record_type: String,
        /// Record time T1, Unix seconds.
        #[arg(long, value_name = "UNIX")]
        time: u64,
    },
    /// Mark a record deleted (its anchorer or the authority).
    Delete {
        #[command(flatten)]
        sender: Sender,
        /// SHA-256 of the ciphertext, hex.
        #[arg(long, value_name = "HEX")]
        eh: String,
    },
    /// Grant a record to a doctor: post Trans = (R, ST, C1); prints {txId, seq, bytes}.
    Authorise {
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
    },
    /// Print, one JSON line each, the authorisations addressed to a protocol key.
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

#[derive(Args)]
struct StreamArgs {
    /// Record key K_P, 16 or 32 bytes hex.
    #[arg(long, value_name = "HEX")]
    key: String,
    /// Associated data, hex (default: empty).
    #[arg(long, value_name = "HEX", default_value = "")]
    aad: String,
    /// Ciphertext segment size in bytes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEGMENT_SIZE)]
    segment_size: u32,
}

#[derive(Subcommand)]
enum TypedDataCommand {
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

#[derive(Subcommand)]
enum CertCommand {
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

/// A CLI failure: a crate error, or an I/O error on input or output.
enum Failure {
    Protocol(Error),
    Io(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Protocol(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e.to_string())
    }
}

/// The output: stdout, or a temporary file renamed into place by [`Sink::commit`].
enum Sink {
    Stdout(io::BufWriter<io::Stdout>),
    File {
        file: io::BufWriter<fs::File>,
        tmp: PathBuf,
        path: PathBuf,
        committed: bool,
    },
}

impl Sink {
    fn open(path: Option<&Path>) -> io::Result<Self> {
        let Some(path) = path else {
            return Ok(Sink::Stdout(io::BufWriter::new(io::stdout())));
        };
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let file = fs::File::create(&tmp)?;
        Ok(Sink::File {
            file: io::BufWriter::new(file),
            tmp,
            path: path.to_owned(),
            committed: false,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::File { file, .. } => file.write_all(bytes),
        }
    }

    fn commit(mut self) -> io::Result<()> {
        match &mut self {
            Sink::Stdout(w) => w.flush(),
            Sink::File {
                file,
                tmp,
                path,
                committed,
            } => {
                file.flush()?;
                file.get_ref().sync_all()?;
                fs::rename(&*tmp, &*path)?;
                *committed = true;
                Ok(())
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Reached without `commit` only on failure: remove the partial file.
        if let Sink::File {
            tmp,
            committed: false,
            ..
        } = self
        {
            let _ = fs::remove_file(tmp);
        }
    }
}

fn open_input(path: Option<&Path>) -> io::Result<Box<dyn Read>> {
    Ok(match path {
        Some(p) => Box::new(fs::File::open(p)?),
        None => Box::new(io::stdin().lock()),
    })
}

fn read_all(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    open_input(path)?.read_to_end(&mut buf)?;
    Ok(buf)
}

fn read_text(path: Option<&Path>) -> Result<String, Failure> {
    String::from_utf8(read_all(path)?).map_err(|_| Failure::Io("input is not UTF-8".into()))
}

/// Runs `produce` against the chosen output and commits it only on success.
fn with_output(
    io: &IoArgs,
    produce: impl FnOnce(&mut Sink) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut sink = Sink::open(io.output.as_deref())?;
    produce(&mut sink)?;
    sink.commit()?;
    Ok(())
}

fn line(io: &IoArgs, text: &str) -> Result<(), Failure> {
    with_output(io, |out| Ok(out.write(format!("{text}\n").as_bytes())?))
}

/// Streams the input through `step` in [`CHUNK`]-sized pieces.
fn stream(
    io: &IoArgs,
    out: &mut Sink,
    mut step: impl FnMut(&[u8], &mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Failure> {
    let mut input = open_input(io.input.as_deref())?;
    let mut chunk = vec![0u8; CHUNK];
    let mut produced = Vec::with_capacity(2 * CHUNK);
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        step(&chunk[..n], &mut produced)?;
        out.write(&produced)?;
        produced.clear();
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let io = &cli.io;
    match cli.command {
        Command::Encrypt(args) => {
            let key = record_key(&args.key)?;
            let aad = hex::decode("aad", &args.aad)?;
            let mut enc = Encryptor::new(&key, &aad, args.segment_size)?;
            let mut hash = [0u8; 32];
            with_output(io, |out| {
                stream(io, out, |data, produced| enc.push(data, produced))?;
                let mut tail = Vec::new();
                hash = enc.finish(&mut tail)?;
                Ok(out.write(&tail)?)
            })?;
            eprintln!("{}", hex::encode(&hash));
        }
        Command::Decrypt {
            stream: args,
            expect_hash,
        } => {
            let key = record_key(&args.key)?;
            let aad = hex::decode("aad", &args.aad)?;
            let mut dec = Decryptor::new(&key, &aad, args.segment_size)?;
            if let Some(eh) = expect_hash {
                dec.expect_hash(hex::decode_array("expected hash", "32", &eh)?);
            }
            with_output(io, |out| {
                stream(io, out, |data, produced| dec.push(data, produced))?;
                let mut tail = Vec::new();
                dec.finish(&mut tail)?;
                Ok(out.write(&tail)?)
            })?;
        }
        Command::Seal { to } => {
            let to = PublicKey::from_hex("recipient public key", &to)?;
            let sealed = ecies::seal(&to, &read_all(io.input.as_deref())?)?;
            with_output(io, |out| Ok(out.write(&sealed)?))?;
        }
        Command::Open { secret } => {
            let secret = SecretKey::from_hex(&secret_text(&secret)?)?;
            let plain = ecies::open(&secret, &read_all(io.input.as_deref())?)?;
            with_output(io, |out| Ok(out.write(&plain)?))?;
        }
        Command::Address { secret } => line(
            io,
            &SecretKey::from_hex(&secret_text(&secret)?)?
                .address()
                .to_checksum(),
        )?,
        Command::Pubkey {
            secret,
            uncompressed,
        } => {
            let pk = SecretKey::from_hex(&secret_text(&secret)?)?.public_key();
            let bytes = if uncompressed {
                pk.to_uncompressed().to_vec()
            } else {
                pk.to_compressed().to_vec()
            };
            line(io, &hex::encode_prefixed(&bytes))?;
        }
        Command::SignMessage { secret } => {
            let key = SecretKey::from_hex(&secret_text(&secret)?)?;
            let sig =
                ehrchain::signature::sign_personal_message(&key, &read_all(io.input.as_deref())?)?;
            line(io, &hex::encode_prefixed(&sig.to_bytes()))?;
        }
        Command::RecoverMessage { signature } => {
            let sig = Signature::from_hex(&signature)?;
            let who = ehrchain::signature::recover_personal_message(
                &read_all(io.input.as_deref())?,
                &sig,
            )?;
            line(io, &who.to_checksum())?;
        }
        Command::TypedData(cmd) => {
            let data = TypedData::from_json(&read_text(io.input.as_deref())?)?;
            let text = match cmd {
                TypedDataCommand::Hash => hex::encode_prefixed(&data.signing_hash()?),
                TypedDataCommand::Sign { secret } => hex::encode_prefixed(
                    &data
                        .sign(&SecretKey::from_hex(&secret_text(&secret)?)?)?
                        .to_bytes(),
                ),
                TypedDataCommand::Recover { signature } => data
                    .recover(&Signature::from_hex(&signature)?)?
                    .to_checksum(),
            };
            line(io, &text)?;
        }
        Command::Cert(CertCommand::Issue {
            authority_secret,
            doctor,
            protocol_key,
            hospital,
            valid_from,
            valid_until,
            serial,
        }) => {
            let authority = SecretKey::from_hex(&secret_text(&authority_secret)?)?;
            let cert = CertificateBody {
                doctor: Address::parse(&doctor)?,
                protocol_key: PublicKey::from_hex("protocol key", &protocol_key)?,
                hospital,
                valid_from,
                valid_until,
                serial,
            }
            .sign(&authority)?;
            line(io, &cert.to_json())?;
        }
        Command::Chain(args) => chain(io, args)?,
        Command::Cert(CertCommand::Verify {
            authority,
            at,
            revoked,
        }) => {
            let cert = Certificate::from_json(&read_text(io.input.as_deref())?)?;
            cert.verify(&Address::parse(&authority)?, at, revoked)?;
            line(io, "valid")?;
        }
    }
    Ok(())
}

/// Resolves a secret argument: `env:NAME` reads the environment variable,
/// `file:PATH` the first line of a file, anything else is the hex itself.
/// The first two keep secrets out of the process list and shell history.
fn secret_text(arg: &str) -> Result<zeroize::Zeroizing<String>, Failure> {
    if let Some(name) = arg.strip_prefix("env:") {
        let value = std::env::var(name)
            .map_err(|_| Failure::Io(format!("environment variable {name} is not set")))?;
        return Ok(zeroize::Zeroizing::new(value.trim().to_owned()));
    }
    if let Some(path) = arg.strip_prefix("file:") {
        let text = zeroize::Zeroizing::new(fs::read_to_string(path)?);
        return Ok(zeroize::Zeroizing::new(
            text.lines().next().unwrap_or("").trim().to_owned(),
        ));
    }
    Ok(zeroize::Zeroizing::new(arg.to_owned()))
}

/// Reads `--key`: a record key `K_P` in hex (or `env:`/`file:`), every copy zeroised.
fn record_key(arg: &str) -> Result<RecordKey, Failure> {
    let bytes = zeroize::Zeroizing::new(hex::decode("key", &secret_text(arg)?)?);
    Ok(RecordKey::from_bytes(&bytes)?)
}

fn registry_arg(text: &str) -> Result<Address, Failure> {
    Ok(Address::parse(text)?)
}

fn receipt_json(r: &ehrchain::chain::log::Receipt) -> serde_json::Value {
    serde_json::json!({
        "txId": hex::encode_prefixed(&r.transaction_hash),
        "block": r.block_number,
        "gasUsed": r.gas_used,
    })
}

fn chain(io: &IoArgs, args: ChainArgs) -> Result<(), Failure> {
    use ehrchain::chain::registry;
    use ehrchain_rpc::Client;
    let client = Client::new(&args.rpc)?;
    let out = match args.command {
        ChainCommand::Deploy {
            secret,
            authority,
            artifact,
        } => {
            let key = SecretKey::from_hex(&secret_text(&secret)?)?;
            let text = fs::read_to_string(&artifact)?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(Error::from)?;
            let code = json
                .get("bytecode")
                .and_then(|b| b.as_str())
                .unwrap_or_default();
            let mut data = hex::decode("contract bytecode", code)?;
            if data.is_empty() {
                return Err(Failure::Io(format!("{}: no bytecode", artifact.display())));
            }
            let authority = match authority {
                Some(a) => Address::parse(&a)?,
                None => key.address(),
            };
            data.extend_from_slice(&ehrchain::chain::abi::encode(&[
                ehrchain::chain::abi::Token::Address(authority),
            ]));
            let r = client.send(&key, None, &data)?;
            let registry = r.contract_address.ok_or(Error::EventNotFound)?;
            let mut j = receipt_json(&r);
            j["registry"] = serde_json::json!(registry.to_checksum());
            j["authority"] = serde_json::json!(authority.to_checksum());
            j
        }
        ChainCommand::Register { sender } => {
            let cert = Certificate::from_json(&read_text(io.input.as_deref())?)?;
            let b = &cert.body;
            let data = registry::register_doctor(
                b.serial,
                &b.doctor,
                &b.protocol_key,
                b.valid_from,
                b.valid_until,
            );
            receipt_json(&sender.send(&client, &data)?)
        }
        ChainCommand::Revoke { sender, serial } => {
            let data = registry::revoke_doctor(serial);
            receipt_json(&sender.send(&client, &data)?)
        }
        ChainCommand::Anchor {
            sender,
            eh,
            record_type,
            time,
        } => {
            let eh = hex::decode_array("eh", "32", &eh)?;
            let data = registry::anchor_record(&eh, &registry::record_type(&record_type)?, time);
            let mut j = receipt_json(&sender.send(&client, &data)?);
            j["eh"] = serde_json::json!(hex::encode_prefixed(&eh));
            j
        }
        ChainCommand::Delete { sender, eh } => {
            let data = registry::mark_deleted(&hex::decode_array("eh", "32", &eh)?);
            receipt_json(&sender.send(&client, &data)?)
        }
        ChainCommand::Authorise {
            sender,
            doctor_key,
            hospital,
            time,
            mask_key,
        } => {
            let pass = ehrchain::grant::AccessPass {
                context: ehrchain::mask::RecordContext::new(&hospital, time)?,
                mask_key: ehrchain::mask::MaskKey::from_bytes(&zeroize::Zeroizing::new(
                    hex::decode("mask key", &secret_text(&mask_key)?)?,
                ))?,
            };
            let auth = ehrchain::grant::Authorisation::create(
                &PublicKey::from_hex("doctor key", &doctor_key)?,
                &pass,
            )?;
            let data = registry::authorise(&auth);
            let registry_address = sender.registry()?;
            let r = sender.send(&client, &data)?;
            let seq =
                r.logs
                    .iter()
                    .find_map(|l| match registry::Event::decode(l, &registry_address) {
                        Ok(registry::Event::Authorised { seq, .. }) => Some(seq),
                        _ => None,
                    });
            let mut j = receipt_json(&r);
            j["seq"] = serde_json::json!(seq);
            j["calldataBytes"] = serde_json::json!(data.len());
            j
        }
        ChainCommand::Scan {
            registry: reg,
            protocol_secret,
            from_block,
            to_block,
            page,
            reveal_mask_key,
        } => {
            let registry_address = registry_arg(&reg)?;
            let scanner = ehrchain::grant::Scanner::new(SecretKey::from_hex(&secret_text(
                &protocol_secret,
            )?)?);
            let to = match to_block {
                Some(b) => b,
                None => client.block_number()?,
            };
            let found = client.scan(&registry_address, &scanner, from_block, to, page)?;
            let mut lines = String::new();
            for f in found {
                let pass = scanner.open(&f.authorisation)?;
                let mut j = serde_json::json!({
                    "seq": f.seq,
                    "txHash": f.transaction_hash.map(|h| hex::encode_prefixed(&h)),
                    "hospital": pass.context.hospital(),
                    "time": pass.context.time(),
                    "x": hex::encode_prefixed(&pass.mask_key.index(&pass.context)),
                });
                if reveal_mask_key {
                    j["maskKey"] = serde_json::json!(hex::encode_prefixed(
                        pass.mask_key.to_bytes().as_slice()
                    ));
                }
                lines.push_str(&j.to_string());
                lines.push('\n');
            }
            return with_output(io, |out| Ok(out.write(lines.as_bytes())?));
        }
        ChainCommand::Status { registry: reg, eh } => client
            .record_status(&registry_arg(&reg)?, &hex::decode_array("eh", "32", &eh)?)?
            .to_json(),
        ChainCommand::CertStatus {
            registry: reg,
            serial,
        } => client
            .certificate_status(&registry_arg(&reg)?, serial)?
            .to_json(),
        ChainCommand::Eh { registry: reg, tx } => {
            let eh = client.anchored_eh(
                &registry_arg(&reg)?,
                &hex::decode_array("transaction hash", "32", &tx)?,
            )?;
            return line(io, &hex::encode_prefixed(&eh));
        }
    };
    line(io, &out.to_string())
}

/// Runs the CLI and maps failures to exit status 1 and one stderr line.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap formats them, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // Usage errors follow the same one-line convention as the rest.
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("error[Usage]: {first} (see --help)");
            return ExitCode::FAILURE;
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Protocol(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::FAILURE
        }
        Err(Failure::Io(e)) => {
            eprintln!("error[Io]: {e}");
            ExitCode::FAILURE
        }
    }
}
