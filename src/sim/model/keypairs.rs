//! SSH key pairs (issue 15): CreateKeyPair (the private key is in the answer once and never
//! stored), ImportKeyPair (a public key made elsewhere), DescribeKeyPairs, DeleteKeyPairs,
//! AttachKeyPair / DetachKeyPair with per-instance results, and the `KeyPairName` check of
//! RunInstances.
//!
//! A key pair is named, not numbered: names are unique per region. Deleting a key pair leaves
//! the instances bound to it as they are (they keep the public key), as on Alibaba Cloud.
//!
//! Must not: know about HTTP or ClientTokens.

use super::super::catalog::{Catalog, Image};
use super::super::clock::stamp;
use super::network::RESOURCE_GROUP;
use super::params::Params;
use super::{dry_run_passed, new_id, paging, tags, SimError, World};
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The service's limit per region.
const MAX_PER_REGION: usize = 500;

#[derive(Serialize, Deserialize)]
pub struct KeyPair {
    pub id: String,
    pub seq: u64,
    pub region: String,
    pub name: String,
    pub fingerprint: String,
    pub public_key: String,
    pub creation_time: String,
    pub tags: tags::Tags,
}

/// The map key of a key pair: names are unique within a region only.
pub(super) fn key(region: &str, name: &str) -> String {
    format!("{region}/{name}")
}

impl World {
    fn key_pair(&self, region: &str, name: &str) -> Option<&KeyPair> {
        self.key_pairs.get(&key(region, name))
    }
}

/// `KeyPairName`: 2 to 128 characters, starting with a letter, of letters, digits, `:`, `_`,
/// `-`, and not starting with http:// or https://.
fn check_key_pair_name(name: &str) -> Result<(), SimError> {
    let lower = name.to_ascii_lowercase();
    let ok = (2..=128).contains(&name.chars().count())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
        && !lower.starts_with("http://")
        && !lower.starts_with("https://");
    if ok {
        return Ok(());
    }
    Err(SimError::new(
        400,
        "InvalidKeyPairName.Malformed",
        format!(
            "The KeyPairName \"{name}\" is malformed: 2 to 128 characters, starting with a letter, \
             of letters, digits, colons, underscores and hyphens."
        ),
    ))
}

/// The fingerprint the console shows: 16 colon-separated hex bytes of a digest of the public
/// key (the service uses MD5; any stable digest serves a simulation).
fn fingerprint(public_key: &str) -> String {
    let digest = Sha256::digest(public_key.as_bytes());
    digest[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Checks a new key pair's name and the region's room for it.
fn check_new(w: &World, region: &str, name: &str) -> Result<(), SimError> {
    check_key_pair_name(name)?;
    if w.key_pair(region, name).is_some() {
        return Err(SimError::new(
            400,
            "KeyPair.AlreadyExist",
            format!("The key pair \"{name}\" already exists in {region}; pick another name or delete it first."),
        ));
    }
    let count = w.key_pairs.values().filter(|k| k.region == region).count();
    if count >= MAX_PER_REGION {
        return Err(SimError::new(
            403,
            "QuotaExceed.KeyPair",
            format!("A region holds at most {MAX_PER_REGION} key pairs; delete some first."),
        ));
    }
    Ok(())
}

fn insert(
    w: &mut World,
    p: &Params,
    region: &str,
    name: &str,
    public_key: String,
) -> Result<KeyPair, SimError> {
    let pair = KeyPair {
        id: new_id("kp", region),
        seq: w.seq(),
        region: region.to_string(),
        name: name.to_string(),
        fingerprint: fingerprint(&public_key),
        public_key,
        creation_time: stamp::seconds(),
        tags: p.tags()?,
    };
    let out = KeyPair {
        id: pair.id.clone(),
        seq: pair.seq,
        region: pair.region.clone(),
        name: pair.name.clone(),
        fingerprint: pair.fingerprint.clone(),
        public_key: String::new(),
        creation_time: pair.creation_time.clone(),
        tags: Vec::new(),
    };
    w.key_pairs.insert(key(region, name), pair);
    Ok(out)
}

fn random_base64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn create_key_pair(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let name = p.need("KeyPairName")?.to_string();
    check_new(w, &region, &name)?;
    let public_key = format!("ssh-rsa {} {name}", random_base64(279));
    // The private key is made here, answered once and forgotten: the service keeps only the
    // public half, so a lost private key cannot be fetched again.
    let private_key = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        random_base64(1190)
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let pair = insert(w, p, &region, &name, public_key)?;
    Ok(json!({
        "KeyPairId": pair.id,
        "KeyPairName": pair.name,
        "KeyPairFingerPrint": pair.fingerprint,
        "PrivateKeyBody": private_key,
    }))
}

/// A public key in OpenSSH form: `ssh-rsa|ssh-ed25519|ecdsa-sha2-… BASE64 [comment]`.
fn check_public_key(body: &str) -> Result<String, SimError> {
    let mut parts = body.split_whitespace();
    let (algo, data) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let known =
        ["ssh-rsa", "ssh-ed25519", "ssh-dss"].contains(&algo) || algo.starts_with("ecdsa-sha2-");
    let decodes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .is_ok_and(|b| b.len() >= 32);
    if known && decodes {
        return Ok(body.trim().to_string());
    }
    Err(SimError::new(
        400,
        "InvalidPublicKeyBody.Malformed",
        "The PublicKeyBody is not an OpenSSH public key: give the one line of the .pub file, such \
         as \"ssh-ed25519 AAAAC3Nz... user@host\" (ssh-rsa, ssh-ed25519 or ecdsa-sha2-*).",
    ))
}

pub fn import_key_pair(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let name = p.need("KeyPairName")?.to_string();
    check_new(w, &region, &name)?;
    let public_key = check_public_key(p.need("PublicKeyBody")?)?;
    let pair = insert(w, p, &region, &name, public_key)?;
    Ok(json!({
        "KeyPairId": pair.id,
        "KeyPairName": pair.name,
        "KeyPairFingerPrint": pair.fingerprint,
    }))
}

pub fn describe_key_pairs(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?;
    // KeyPairName takes `*` as a wildcard, as the service does (`web-*`).
    let name = p.str("KeyPairName");
    let print = p.str("KeyPairFingerPrint");
    let with_public = p.flag("IncludePublicKey")?;
    let filter = p.tags()?;
    let mut list: Vec<&KeyPair> = w
        .key_pairs
        .values()
        .filter(|k| {
            k.region == region
                && name.map_or(true, |n| wildcard(n, &k.name))
                && print.map_or(true, |f| f == k.fingerprint)
                && tags::matches(&k.tags, &filter)
        })
        .collect();
    list.sort_by_key(|k| k.seq);
    paging::page(
        p,
        list,
        |k| {
            let mut m = json!({
                "KeyPairName": k.name,
                "KeyPairFingerPrint": k.fingerprint,
                "CreationTime": k.creation_time,
                "ResourceGroupId": RESOURCE_GROUP,
                "Tags": tags::ecs_style(&k.tags),
            });
            if with_public {
                m["PublicKey"] = Value::from(k.public_key.clone());
            }
            m
        },
        Map::new(),
    )
}

/// `pattern` with `*` standing for any run of characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

pub fn delete_key_pairs(w: &mut World, p: &Params) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let names = p.json_list("KeyPairNames", 100)?.unwrap_or_default();
    if names.is_empty() {
        return Err(SimError::missing("KeyPairNames"));
    }
    if let Some(missing) = names.iter().find(|n| w.key_pair(&region, n).is_none()) {
        return Err(super::not_found(
            "InvalidKeyPairName.NotFound",
            "KeyPairName",
            missing,
        ));
    }
    for n in &names {
        w.key_pairs.remove(&key(&region, n));
    }
    Ok(json!({}))
}

pub fn attach_key_pair(w: &mut World, p: &Params) -> Result<Value, SimError> {
    bind(w, p, true)
}

pub fn detach_key_pair(w: &mut World, p: &Params) -> Result<Value, SimError> {
    bind(w, p, false)
}

/// Attach (`attach`) or detach the key pair on each instance, with one result per instance:
/// a batch call succeeds as a whole and says which instances failed, as the service does.
fn bind(w: &mut World, p: &Params, attach: bool) -> Result<Value, SimError> {
    let region = p.region()?.to_string();
    let name = p.need("KeyPairName")?.to_string();
    if w.key_pair(&region, &name).is_none() {
        return Err(super::not_found(
            "InvalidKeyPairName.NotFound",
            "KeyPairName",
            &name,
        ));
    }
    let ids = p
        .json_list("InstanceIds", 50)?
        .ok_or_else(|| SimError::missing("InstanceIds"))?;
    if p.dry_run()? {
        return Err(dry_run_passed(p.action.name));
    }
    let mut results = Vec::new();
    for id in &ids {
        let outcome = match w.instance(id).filter(|i| i.region == region) {
            None => Err((
                "InvalidInstanceId.NotFound",
                format!("The instance {id} does not exist."),
            )),
            Some(i) if is_windows(p.catalog, &i.image_id) => Err((
                "DependencyViolation.WindowsInstance",
                "Windows instances take no key pairs; log in with a password.".to_string(),
            )),
            Some(i) if attach && !i.key_pair.is_empty() && i.key_pair != name => Err((
                "KeyPair.AlreadyBound",
                format!(
                    "The instance is bound to key pair {}; detach it first.",
                    i.key_pair
                ),
            )),
            Some(i) if !attach && i.key_pair != name => Err((
                "InvalidKeyPairName.NotBound",
                format!("The instance is not bound to key pair {name}."),
            )),
            Some(i) => {
                i.key_pair = if attach { name.clone() } else { String::new() };
                Ok(())
            }
        };
        results.push(match outcome {
            Ok(()) => {
                json!({"InstanceId": id, "Success": "true", "Code": "200", "Message": "successful"})
            }
            Err((code, message)) => {
                json!({"InstanceId": id, "Success": "false", "Code": code, "Message": message})
            }
        });
    }
    let failed = results.iter().filter(|r| r["Success"] == "false").count();
    Ok(json!({
        "KeyPairName": name,
        "TotalCount": ids.len().to_string(),
        "FailCount": failed.to_string(),
        "Results": { "Result": results },
    }))
}

fn is_windows(catalog: &Catalog, image_id: &str) -> bool {
    catalog
        .image(image_id)
        .is_some_and(|m| m.os_type.eq_ignore_ascii_case("windows"))
}

/// The `KeyPairName` of a RunInstances/CreateInstance request: it must exist in the region,
/// and a Windows image takes none.
pub fn for_launch(w: &World, p: &Params, image: &Image) -> Result<String, SimError> {
    let Some(name) = p.str("KeyPairName").filter(|n| !n.is_empty()) else {
        return Ok(String::new());
    };
    let region = p.region()?;
    if w.key_pair(region, name).is_none() {
        return Err(super::not_found(
            "InvalidKeyPairName.NotFound",
            "KeyPairName",
            name,
        ));
    }
    if image.os_type.eq_ignore_ascii_case("windows") {
        return Err(SimError::new(
            400,
            "InvalidParameter.KeyPairNotSupported",
            format!(
                "The image {} is Windows, which takes no key pair; log in with a password.",
                image.image_id
            ),
        ));
    }
    Ok(name.to_string())
}
