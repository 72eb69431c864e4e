//! The command-line interface (native only).
//!
//! Every subcommand reads its input from stdin or `-i FILE` and writes to
//! stdout or `-o FILE`. With `-o`, output goes to a temporary file in the same
//! directory that is renamed into place only on success, so a failed run
//! leaves no output file. Failures exit with status 1 and one line on stderr:
//! `error[<Code>]: <message>`. Hex output is `0x`-prefixed lowercase.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ehrchain::cert::{Certificate, CertificateBody};
use ehrchain::record::{Decryptor, Encryptor, DEFAULT_SEGMENT_SIZE};
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
            let key = zeroize::Zeroizing::new(hex::decode("key", &args.key)?);
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
            let key = zeroize::Zeroizing::new(hex::decode("key", &args.key)?);
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
            let secret = SecretKey::from_hex(&secret)?;
            let plain = ecies::open(&secret, &read_all(io.input.as_deref())?)?;
            with_output(io, |out| Ok(out.write(&plain)?))?;
        }
        Command::Address { secret } => {
            line(io, &SecretKey::from_hex(&secret)?.address().to_checksum())?
        }
        Command::Pubkey {
            secret,
            uncompressed,
        } => {
            let pk = SecretKey::from_hex(&secret)?.public_key();
            let bytes = if uncompressed {
                pk.to_uncompressed().to_vec()
            } else {
                pk.to_compressed().to_vec()
            };
            line(io, &hex::encode_prefixed(&bytes))?;
        }
        Command::SignMessage { secret } => {
            let key = SecretKey::from_hex(&secret)?;
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
                TypedDataCommand::Sign { secret } => {
                    hex::encode_prefixed(&data.sign(&SecretKey::from_hex(&secret)?)?.to_bytes())
                }
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
            let authority = SecretKey::from_hex(&authority_secret)?;
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

/// Runs the CLI and maps failures to exit status 1 and one stderr line.
pub(crate) fn main() -> ExitCode {
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
