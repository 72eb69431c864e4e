//! EIP-712 typed structured data: hashing, signing and recovering the signer
//! of typed data given in the JSON form of `eth_signTypedData_v4`
//! (`{types, primaryType, domain, message}`), PROTOCOL.md §3.2.
//!
//! Supported field types: `address`, `bool`, `string`, `bytes`, `bytes1`…`bytes32`,
//! `uint8`…`uint256`, `int8`…`int256`, struct types, and arrays (`T[]`, `T[k]`)
//! of any of these. Integers may be JSON numbers, decimal strings or `0x` hex
//! strings. The encoding is strict: a message field missing from the data, a
//! field not declared in the type, or a value out of its type's range is an
//! error (a signer should never sign data its wallet did not show).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::{Address, SecretKey};
use crate::error::{Error, Result};
use crate::hash::keccak256;
use crate::signature::Signature;

/// The fields of `EIP712Domain` in the order EIP-712 lists them; used when the
/// JSON omits the `EIP712Domain` type (as ethers.js does).
const DOMAIN_FIELDS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

/// Nesting limit for struct/array values, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// One member of a struct type: `{ "name": …, "type": … }` (nothing else:
/// an unknown key would give signed typed data a second JSON form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Field name.
    pub name: String,
    /// Field type (e.g. `"address"`, `"Person[]"`).
    #[serde(rename = "type")]
    pub kind: String,
}

impl Member {
    /// A member with this name and type.
    pub fn new(name: &str, kind: &str) -> Self {
        Member {
            name: name.to_owned(),
            kind: kind.to_owned(),
        }
    }
}

/// Typed data in the `eth_signTypedData_v4` JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedData {
    /// Struct type definitions, including `EIP712Domain` (optional on input).
    pub types: BTreeMap<String, Vec<Member>>,
    /// The type of `message`.
    pub primary_type: String,
    /// The domain separator's values.
    pub domain: Value,
    /// The message's values.
    pub message: Value,
}

impl TypedData {
    /// Parses typed data JSON text.
    ///
    /// # Errors
    /// [`Error::MalformedJson`] if the text is not JSON of this shape.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(Error::json_in("typed data"))
    }

    /// Serialises to JSON text (the `eth_signTypedData_v4` parameter).
    pub fn to_json(&self) -> String {
        // Serialising a tree of maps, strings and JSON values cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The 32-byte digest that is signed:
    /// `keccak256(0x19 ‖ 0x01 ‖ hashStruct(domain) ‖ hashStruct(message))`.
    ///
    /// # Errors
    /// [`Error::InvalidTypedData`] if the data does not match its types.
    pub fn signing_hash(&self) -> Result<[u8; 32]> {
        let types = self.types_with_domain()?;
        let encoder = Encoder { types: &types };
        let domain = encoder.hash_struct("EIP712Domain", &self.domain, 0)?;
        if self.primary_type == "EIP712Domain" {
            return Ok(keccak256(&[&[0x19, 0x01][..], &domain].concat()));
        }
        let message = encoder.hash_struct(&self.primary_type, &self.message, 0)?;
        Ok(keccak256(&[&[0x19, 0x01][..], &domain, &message].concat()))
    }

    /// Signs the typed data as `eth_signTypedData_v4` does.
    ///
    /// # Errors
    /// As [`TypedData::signing_hash`].
    pub fn sign(&self, key: &SecretKey) -> Result<Signature> {
        Signature::sign_prehash(key, &self.signing_hash()?)
    }

    /// The address that signed this typed data.
    ///
    /// # Errors
    /// As [`TypedData::signing_hash`] and [`Signature::recover_address`].
    pub fn recover(&self, signature: &Signature) -> Result<Address> {
        signature.recover_address(&self.signing_hash()?)
    }

    fn types_with_domain(&self) -> Result<BTreeMap<String, Vec<Member>>> {
        let mut types = self.types.clone();
        if !types.contains_key("EIP712Domain") {
            let domain = self
                .domain
                .as_object()
                .ok_or_else(|| invalid("domain must be an object"))?;
            let members = DOMAIN_FIELDS
                .iter()
                .filter(|(name, _)| domain.contains_key(*name))
                .map(|(name, kind)| Member::new(name, kind))
                .collect();
            types.insert("EIP712Domain".to_owned(), members);
        }
        Ok(types)
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidTypedData {
        reason: reason.into(),
    }
}

struct Encoder<'a> {
    types: &'a BTreeMap<String, Vec<Member>>,
}

impl Encoder<'_> {
    fn members(&self, name: &str) -> Result<&Vec<Member>> {
        self.types
            .get(name)
            .ok_or_else(|| invalid(format!("undefined type {name}")))
    }

    /// `encodeType`: the primary type, then its referenced struct types sorted by name.
    fn encode_type(&self, primary: &str) -> Result<String> {
        let mut deps = BTreeSet::new();
        self.collect_deps(primary, &mut deps, 0)?;
        deps.remove(primary);
        let mut out = String::new();
        for name in std::iter::once(primary).chain(deps.iter().map(String::as_str)) {
            let fields: Vec<String> = self
                .members(name)?
                .iter()
                .map(|m| format!("{} {}", m.kind, m.name))
                .collect();
            out.push_str(&format!("{name}({})", fields.join(",")));
        }
        Ok(out)
    }

    fn collect_deps(&self, name: &str, deps: &mut BTreeSet<String>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid("types nested too deeply"));
        }
        if !deps.insert(name.to_owned()) {
            return Ok(());
        }
        for member in self.members(name)? {
            let base = base_type(&member.kind);
            if self.types.contains_key(base) {
                self.collect_deps(base, deps, depth + 1)?;
            }
        }
        Ok(())
    }

    fn hash_struct(&self, name: &str, value: &Value, depth: usize) -> Result<[u8; 32]> {
        if depth > MAX_DEPTH {
            return Err(invalid("value nested too deeply"));
        }
        let object = value
            .as_object()
            .ok_or_else(|| invalid(format!("value of {name} must be an object")))?;
        let members = self.members(name)?;
        if let Some(extra) = object
            .keys()
            .find(|k| !members.iter().any(|m| &m.name == *k))
        {
            return Err(invalid(format!("field {extra} is not declared in {name}")));
        }
        let mut encoded = Vec::with_capacity(32 * (members.len() + 1));
        encoded.extend_from_slice(&keccak256(self.encode_type(name)?.as_bytes()));
        for member in members {
            let field = object
                .get(&member.name)
                .ok_or_else(|| invalid(format!("field {} of {name} is missing", member.name)))?;
            encoded.extend_from_slice(&self.encode_value(&member.kind, field, depth + 1)?);
        }
        Ok(keccak256(&encoded))
    }

    fn encode_value(&self, kind: &str, value: &Value, depth: usize) -> Result<[u8; 32]> {
        if let Some(element) = array_element(kind) {
            let items = value
                .as_array()
                .ok_or_else(|| invalid(format!("value of {kind} must be an array")))?;
            if let Some(len) = fixed_array_len(kind)? {
                if items.len() != len {
                    return Err(invalid(format!("{kind} needs {len} elements")));
                }
            }
            let mut encoded = Vec::with_capacity(32 * items.len());
            for item in items {
                encoded.extend_from_slice(&self.encode_value(element, item, depth + 1)?);
            }
            return Ok(keccak256(&encoded));
        }
        if self.types.contains_key(kind) {
            return self.hash_struct(kind, value, depth);
        }
        encode_atomic(kind, value)
    }
}

/// `Person[][3]` → `Person`.
fn base_type(kind: &str) -> &str {
    kind.split('[').next().unwrap_or(kind)
}

/// `Person[3]` → `Some("Person")`, `Person[][2]` → `Some("Person[]")`.
fn array_element(kind: &str) -> Option<&str> {
    if kind.ends_with(']') {
        kind.rfind('[').map(|i| &kind[..i])
    } else {
        None
    }
}

fn fixed_array_len(kind: &str) -> Result<Option<usize>> {
    let open = kind.rfind('[').ok_or_else(|| invalid("bad array type"))?;
    let inside = kind.get(open + 1..kind.len() - 1).unwrap_or("");
    if inside.is_empty() {
        return Ok(None);
    }
    inside
        .parse::<usize>()
        .map(Some)
        .map_err(|_| invalid(format!("bad array length in {kind}")))
}

fn as_text<'v>(kind: &str, value: &'v Value) -> Result<&'v str> {
    value
        .as_str()
        .ok_or_else(|| invalid(format!("value of {kind} must be a string")))
}

fn encode_atomic(kind: &str, value: &Value) -> Result<[u8; 32]> {
    let mut word = [0u8; 32];
    match kind {
        "address" => {
            let address = Address::parse(as_text(kind, value)?)?;
            word[12..].copy_from_slice(&address.0);
        }
        "bool" => {
            let flag = value
                .as_bool()
                .ok_or_else(|| invalid("value of bool must be true or false"))?;
            word[31] = u8::from(flag);
        }
        "string" => word = keccak256(as_text(kind, value)?.as_bytes()),
        "bytes" => word = keccak256(&crate::hex::decode("bytes value", as_text(kind, value)?)?),
        _ if kind.starts_with("bytes") => {
            let n = bit_or_byte_size(kind, "bytes", 1, 32)?;
            let bytes = crate::hex::decode("bytesN value", as_text(kind, value)?)?;
            if bytes.len() != n {
                return Err(invalid(format!("value of {kind} must be {n} bytes")));
            }
            word[..n].copy_from_slice(&bytes);
        }
        _ if kind.starts_with("uint") => {
            let bits = bit_or_byte_size(kind, "uint", 8, 256)?;
            let (negative, magnitude) = parse_integer(kind, value)?;
            if negative && magnitude != [0u8; 32] {
                return Err(invalid(format!("value of {kind} must not be negative")));
            }
            check_bits(kind, &magnitude, bits)?;
            word = magnitude;
        }
        _ if kind.starts_with("int") => {
            let bits = bit_or_byte_size(kind, "int", 8, 256)?;
            let (negative, magnitude) = parse_integer(kind, value)?;
            // |v| < 2^(bits-1), or v = -2^(bits-1).
            let limit = power_of_two(bits - 1);
            let ok = if negative {
                magnitude <= limit
            } else {
                magnitude < limit
            };
            if !ok || (bits == 256 && !negative && magnitude[0] & 0x80 != 0) {
                return Err(invalid(format!("value out of range for {kind}")));
            }
            word = if negative {
                twos_complement(magnitude)
            } else {
                magnitude
            };
        }
        _ => return Err(invalid(format!("unsupported type {kind}"))),
    }
    Ok(word)
}

/// Parses the size suffix of `uintN`/`intN`/`bytesN`, checking range and step.
fn bit_or_byte_size(kind: &str, prefix: &str, step: usize, max: usize) -> Result<usize> {
    let digits = &kind[prefix.len()..];
    if digits.is_empty() && prefix != "bytes" {
        return Ok(256); // `uint` = `uint256`, `int` = `int256`
    }
    let size: usize = digits
        .parse()
        .map_err(|_| invalid(format!("unsupported type {kind}")))?;
    if size == 0 || size > max || size % step != 0 {
        return Err(invalid(format!("unsupported type {kind}")));
    }
    Ok(size)
}

/// Parses an integer value: JSON number, decimal string, or `0x` hex string.
/// Returns (negative, magnitude as 32-byte big-endian).
fn parse_integer(kind: &str, value: &Value) -> Result<(bool, [u8; 32])> {
    let text = match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.to_string()
            } else if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                return Err(invalid(format!("value of {kind} must be an integer")));
            }
        }
        Value::String(s) => s.clone(),
        _ => {
            return Err(invalid(format!(
                "value of {kind} must be a number or string"
            )))
        }
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let overflow = || invalid(format!("value out of range for {kind}"));
    let mut out = [0u8; 32];
    if let Some(hex_digits) = crate::hex::prefixed_digits(digits) {
        if hex_digits.is_empty() || hex_digits.len() > 64 {
            return Err(overflow());
        }
        let padded = format!("{hex_digits:0>64}");
        out = crate::hex::decode_array("integer", "32", &padded)?;
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!("value of {kind} is not an integer")));
        }
        for digit in digits.bytes() {
            // out = out * 10 + digit, big-endian, with overflow detection.
            let mut carry = u32::from(digit - b'0');
            for byte in out.iter_mut().rev() {
                let v = u32::from(*byte) * 10 + carry;
                *byte = (v & 0xff) as u8;
                carry = v >> 8;
            }
            if carry != 0 {
                return Err(overflow());
            }
        }
    }
    Ok((negative, out))
}

fn power_of_two(exp: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    if exp < 256 {
        out[31 - exp / 8] = 1 << (exp % 8);
    }
    out
}

fn check_bits(kind: &str, magnitude: &[u8; 32], bits: usize) -> Result<()> {
    if bits < 256 && *magnitude >= power_of_two(bits) {
        return Err(invalid(format!("value out of range for {kind}")));
    }
    Ok(())
}

fn twos_complement(magnitude: [u8; 32]) -> [u8; 32] {
    let mut out = magnitude.map(|b| !b);
    for byte in out.iter_mut().rev() {
        let (v, overflow) = byte.overflowing_add(1);
        *byte = v;
        if !overflow {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of EIP-712 itself (Mail from Cow to Bob), whose digest the EIP publishes.
    pub(crate) const EIP712_MAIL: &str = r#"{
      "types": {
        "EIP712Domain": [
          {"name":"name","type":"string"},{"name":"version","type":"string"},
          {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
        "Person": [{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
        "Mail": [{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]
      },
      "primaryType": "Mail",
      "domain": {"name":"Ether Mail","version":"1","chainId":1,
                 "verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
      "message": {
        "from": {"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents":"Hello, Bob!"
      }
    }"#;

    #[test]
    fn eip712_reference_example_digest() {
        let data = TypedData::from_json(EIP712_MAIL).unwrap();
        let types = data.types_with_domain().unwrap();
        let enc = Encoder { types: &types };
        assert_eq!(
            enc.encode_type("Mail").unwrap(),
            "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
        );
        assert_eq!(
            crate::hex::encode(&data.signing_hash().unwrap()),
            "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
        // The EIP's signer: keccak256("cow").
        let cow = SecretKey::from_bytes(&keccak256(b"cow")).unwrap();
        assert_eq!(
            cow.address().to_checksum(),
            "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
        );
        let sig = data.sign(&cow).unwrap();
        assert_eq!(data.recover(&sig).unwrap(), cow.address());
    }

    #[test]
    fn domain_type_is_inferred_when_absent() {
        let mut data = TypedData::from_json(EIP712_MAIL).unwrap();
        let expected = data.signing_hash().unwrap();
        data.types.remove("EIP712Domain");
        assert_eq!(data.signing_hash().unwrap(), expected);
    }

    #[test]
    fn missing_extra_and_out_of_range_fields_are_refused() {
        let mut data = TypedData::from_json(EIP712_MAIL).unwrap();
        data.message["extra"] = Value::from(1);
        assert!(matches!(
            data.signing_hash(),
            Err(Error::InvalidTypedData { .. })
        ));
        let mut data = TypedData::from_json(EIP712_MAIL).unwrap();
        data.message.as_object_mut().unwrap().remove("contents");
        assert!(matches!(
            data.signing_hash(),
            Err(Error::InvalidTypedData { .. })
        ));
        let invalid = |reason: &str| {
            Err(Error::InvalidTypedData {
                reason: reason.into(),
            })
        };
        assert_eq!(
            encode_atomic("uint8", &Value::from(256)),
            invalid("value out of range for uint8")
        );
        let mut max = [0u8; 32];
        max[31] = 255;
        assert_eq!(encode_atomic("uint8", &Value::from(255)), Ok(max));
        let mut min = [0xffu8; 32];
        min[31] = 0x80;
        assert_eq!(encode_atomic("int8", &Value::from(-128)), Ok(min));
        assert_eq!(
            encode_atomic("int8", &Value::from(128)),
            invalid("value out of range for int8")
        );
        assert_eq!(
            encode_atomic(
                "uint256",
                &Value::from(
                    "115792089237316195423570985008687907853269984665640564039457584007913129639936"
                )
            ),
            invalid("value out of range for uint256")
        );
        assert_eq!(
            encode_atomic("bytes3", &Value::from("0x0102")),
            invalid("value of bytes3 must be 3 bytes")
        );
        assert_eq!(
            encode_atomic("uint7", &Value::from(1)),
            invalid("unsupported type uint7")
        );
        assert!(matches!(
            TypedData::from_json("{"),
            Err(Error::MalformedJson { .. })
        ));
    }

    /// Regression (fuzz target `certificate`, issue #10): a member with a key
    /// other than `name` and `type` was accepted and ignored, so a signed
    /// certificate or request had more than one JSON form.
    #[test]
    fn a_member_with_an_unknown_key_is_refused() {
        let json = EIP712_MAIL.replacen(
            r#"{"name":"name","type":"string"}"#,
            r#"{"name":"name","type":"string","sig.":"01"}"#,
            1,
        );
        assert_ne!(json, EIP712_MAIL);
        assert!(matches!(
            TypedData::from_json(&json),
            Err(Error::MalformedJson { .. })
        ));
    }

    #[test]
    fn integers_in_every_notation_agree() {
        let a = encode_atomic("uint256", &Value::from(1_000_000u64)).unwrap();
        let b = encode_atomic("uint256", &Value::from("1000000")).unwrap();
        let c = encode_atomic("uint256", &Value::from("0xf4240")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(
            encode_atomic("int256", &Value::from(-1)).unwrap(),
            [0xff; 32]
        );
    }

    #[test]
    fn arrays_hash_their_elements() {
        let json = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"}],
            "Group":[{"name":"ids","type":"uint8[2]"},{"name":"tags","type":"string[]"}]},
            "primaryType":"Group","domain":{"name":"x"},
            "message":{"ids":[1,2],"tags":["a","b","c"]}}"#;
        let data = TypedData::from_json(json).unwrap();
        let mut again = data.clone();
        again.message["tags"] = serde_json::json!(["a", "b"]);
        assert_ne!(data.signing_hash().unwrap(), again.signing_hash().unwrap());
        let mut wrong = data.clone();
        wrong.message["ids"] = serde_json::json!([1, 2, 3]);
        assert_eq!(
            wrong.signing_hash(),
            Err(Error::InvalidTypedData {
                reason: "uint8[2] needs 2 elements".into()
            })
        );
    }
}
