//! `chain`: deploying and driving the registry contract over JSON-RPC.

use std::fs;

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::cert::Certificate;
use ehrchain::grant::GrantTerms;
use ehrchain::{hex, Address, Error, PublicKey, SecretKey};

use crate::args::{ChainArgs, ChainCommand, IoArgs, Sender};
use crate::failure::Failure;
use crate::io::{line, read_text, secret_text, with_output};

impl Sender {
    /// Parses `--registry`.
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

/// Parses a `--registry` address argument.
fn registry_arg(text: &str) -> Result<Address, Failure> {
    Ok(Address::parse(text)?)
}

/// The fields of a transaction receipt that every sending subcommand prints.
fn receipt_json(r: &ehrchain::chain::log::Receipt) -> serde_json::Value {
    serde_json::json!({
        "txId": hex::encode_prefixed(&r.transaction_hash),
        "block": r.block_number,
        "gasUsed": r.gas_used,
    })
}

/// `chain <cmd>`: runs `cmd` against the registry over JSON-RPC at `--rpc`.
pub(crate) fn chain(io: &IoArgs, args: ChainArgs) -> Result<(), Failure> {
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
            )?;
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
            serial,
            patient,
            salt,
        } => {
            let eh = hex::decode_array("eh", "32", &eh)?;
            let record_type = RecordType::new(&record_type)?;
            let opening = match salt {
                Some(salt) => AnchorOpening {
                    salt: hex::decode_array("salt", "32", &salt)?,
                    record_type,
                },
                None => AnchorOpening::generate(record_type)?,
            };
            let doctor = SecretKey::from_hex(&secret_text(&sender.secret)?)?.address();
            let commitment = opening.commitment(&doctor, &Address::parse(&patient)?);
            let data = registry::anchor_record(&eh, &commitment, time, serial)?;
            let mut j = receipt_json(&sender.send(&client, &data)?);
            j["eh"] = serde_json::json!(hex::encode_prefixed(&eh));
            j["serial"] = serde_json::json!(serial);
            j["commitment"] = serde_json::json!(hex::encode_prefixed(&commitment));
            j["anchorSalt"] = serde_json::json!(hex::encode_prefixed(&opening.salt));
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
            eh,
            salt,
            record_type,
            patient_secret,
        } => {
            let terms = GrantTerms {
                doctor: PublicKey::from_hex("doctor key", &doctor_key)?,
                context: ehrchain::mask::RecordContext::new(&hospital, time)?,
                mask_key: ehrchain::mask::MaskKey::from_bytes(&zeroize::Zeroizing::new(
                    hex::decode("mask key", &secret_text(&mask_key)?)?,
                ))?,
                eh: hex::decode_array("eh", "32", &eh)?,
                opening: AnchorOpening {
                    salt: hex::decode_array("salt", "32", &salt)?,
                    record_type: RecordType::new(&record_type)?,
                },
            };
            let patient = SecretKey::from_hex(&secret_text(&patient_secret)?)?;
            let auth = ehrchain::grant::Authorisation::create(&terms.sign(&patient)?)?;
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
                let mut j = serde_json::json!({
                    "seq": f.seq,
                    "txHash": f.transaction_hash.map(|h| hex::encode_prefixed(&h)),
                });
                let checked = scanner.open(&f.authorisation).and_then(|opened| {
                    let anchor = client.certified_anchor(&registry_address, &opened.eh())?;
                    opened.confirm(&anchor)
                });
                match checked {
                    Ok(grant) => {
                        let t = &grant.pass.terms;
                        j["hospital"] = serde_json::json!(t.context.hospital());
                        j["time"] = serde_json::json!(t.context.time());
                        j["x"] =
                            serde_json::json!(hex::encode_prefixed(&t.mask_key.index(&t.context)));
                        j["eh"] = serde_json::json!(hex::encode_prefixed(&t.eh));
                        j["recordType"] = serde_json::json!(t.opening.record_type.as_str());
                        j["patient"] = serde_json::json!(grant.patient.to_checksum());
                        j["anchoredBy"] = serde_json::json!(grant.anchor.doctor.to_checksum());
                        j["serial"] = serde_json::json!(grant.anchor.serial);
                        if reveal_mask_key {
                            j["maskKey"] = serde_json::json!(hex::encode_prefixed(
                                t.mask_key.to_bytes().as_slice()
                            ));
                        }
                    }
                    Err(e @ (Error::RpcUnreachable { .. } | Error::Rpc { .. })) => {
                        return Err(e.into())
                    }
                    Err(e) => j["refused"] = serde_json::json!(e.code()),
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
