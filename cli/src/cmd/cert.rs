//! `cert`: issuing and verifying doctor certificates.

use ehrchain::cert::{Certificate, CertificateBody};
use ehrchain::{Address, PublicKey, SecretKey};

use crate::args::{CertCommand, IoArgs};
use crate::failure::Failure;
use crate::io::{line, read_text, secret_text};

/// `cert <cmd>`: issues a certificate, or verifies the one on the input.
pub(crate) fn cert(io: &IoArgs, cmd: CertCommand) -> Result<(), Failure> {
    match cmd {
        CertCommand::Issue {
            authority_secret,
            doctor,
            protocol_key,
            hospital,
            valid_from,
            valid_until,
            serial,
        } => {
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
            line(io, &cert.to_json())
        }
        CertCommand::Verify {
            authority,
            at,
            revoked,
        } => {
            let cert = Certificate::from_json(&read_text(io.input.as_deref())?)?;
            cert.verify(&Address::parse(&authority)?, at, revoked)?;
            line(io, "valid")
        }
    }
}
