//! Private keys of key pairs (issue 15): CreateKeyPair answers with `PrivateKeyBody` once, and
//! that key must never reach an output, a log, the journal, the REPL's history or an error.
//!
//! The gateway hands every answer to [`PrivateKeys::take`] before anyone else sees it: the key
//! moves into a [`Secret`] held here, and the answer carries [`PLACEHOLDER`] instead, so
//! whatever prints the answer (a script, the REPL, `ecsh call`, `--output json`) prints the
//! placeholder. The only way out is [`PrivateKeys::write`] (the `write_private_key` function):
//! it writes the key to a new file readable by its owner only, once.

use super::errors::HostError;
use crate::secret::Secret;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

/// What a script sees in place of the private key.
pub const PLACEHOLDER: &str =
    "<redacted: write_private_key(#{ key_pair_name, path }) saves it to a file>";

/// The private keys this session received and has not written yet, by key pair name.
#[derive(Default)]
pub struct PrivateKeys(RefCell<BTreeMap<String, Secret>>);

impl PrivateKeys {
    /// Moves a `PrivateKeyBody` out of `answer` (a CreateKeyPair answer) into the store.
    pub fn take(&self, answer: &mut Value) {
        let Some(obj) = answer.as_object_mut() else {
            return;
        };
        // Every answer passes here: a scan of its few top-level names costs less than the
        // hashed lookup `remove` makes, and only CreateKeyPair's answer has the key.
        if !obj.keys().any(|k| k == "PrivateKeyBody") {
            return;
        }
        let Some(Value::String(key)) = obj.remove("PrivateKeyBody") else {
            return;
        };
        let name = obj
            .get("KeyPairName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        obj.insert("PrivateKeyBody".into(), Value::from(PLACEHOLDER));
        self.0.borrow_mut().insert(name, Secret::new(key));
    }

    /// Writes the private key of `name` to `path`, a file that must not exist yet, with mode
    /// 0600; the store forgets the key once it is written.
    pub fn write(&self, name: &str, path: &Path) -> Result<(), HostError> {
        let held: Vec<String> = self.0.borrow().keys().cloned().collect();
        let Some(key) = self.0.borrow().get(name).cloned() else {
            let hint = match crate::ops::closest(name, held.iter().map(String::as_str)) {
                Some(near) => format!("; did you mean {near}?"),
                None if held.is_empty() => String::new(),
                None => format!(" (held: {})", held.join(", ")),
            };
            return Err(HostError::InvalidOption(format!(
                "write_private_key: no private key of key pair '{name}' is held: only a \
                 create_key_pair of this session returns one, and it can be written once{hint}"
            )));
        };
        write_new_private(path, key.expose()).map_err(|e| {
            HostError::Local(format!(
                "write_private_key: cannot write {}: {e} (the key is still held; give a path \
                 that does not exist yet)",
                path.display()
            ))
        })?;
        self.0.borrow_mut().remove(name);
        Ok(())
    }
}

/// `write_private_key(#{ key_pair_name, path })`: see [`PrivateKeys::write`].
pub fn write_private_key(
    host: &super::Host,
    c: &super::options::Checked,
) -> Result<Value, HostError> {
    let name = c.str("key_pair_name").unwrap_or_default();
    let path = c.str("path").unwrap_or_default();
    host.gateway.private_keys().write(name, Path::new(path))?;
    Ok(Value::from(path))
}

/// True for the action that answers a private key: it creates a key pair without being given
/// its public key (derived from the registry, so no action name is written here).
pub fn answers_a_private_key(product: crate::ops::Product, action: &str) -> bool {
    crate::ops::find(product, action).is_some_and(|a| {
        matches!(a.creates(), Some((crate::ops::ResourceKind::KeyPair, _)))
            && !a.required.contains(&"PublicKeyBody")
    })
}

/// Why `ecsh call` does not send it: the key would be lost the moment the command ends.
pub fn no_key_from_call(action: &str) -> String {
    format!(
        "`ecsh call {action}` would lose the private key: ecsh never prints it, and `ecsh call` \
         ends before it could be saved. Create the key pair in a script or the REPL and save the \
         key: `let kp = create_key_pair(#{{ key_pair_name: \"NAME\" }}); write_private_key(#{{ \
         key_pair_name: kp.KeyPairName, path: \"NAME.pem\" }});`, or make the key yourself \
         (ssh-keygen) and import its public half with import_key_pair"
    )
}

/// Creates `path` (never overwriting) readable and writable by its owner only.
fn write_new_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_key_leaves_the_answer_and_is_written_once_to_a_private_file() {
        let keys = PrivateKeys::default();
        let mut answer = json!({"KeyPairName": "kp1", "PrivateKeyBody": "-----BEGIN KEY-----"});
        keys.take(&mut answer);
        assert_eq!(answer["PrivateKeyBody"], PLACEHOLDER);
        assert!(!answer.to_string().contains("BEGIN KEY"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kp1.pem");
        keys.write("kp1", &path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "-----BEGIN KEY-----"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = keys
            .write("kp1", &dir.path().join("again.pem"))
            .unwrap_err();
        assert!(again.to_string().contains("no private key"), "{again}");
    }

    #[test]
    fn an_existing_file_is_never_overwritten_and_the_key_stays_held() {
        let keys = PrivateKeys::default();
        let mut answer = json!({"KeyPairName": "kp1", "PrivateKeyBody": "secret-body"});
        keys.take(&mut answer);
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = keys.write("kp1", file.path()).unwrap_err().to_string();
        assert!(
            err.contains("does not exist yet") && !err.contains("secret-body"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "");
        let near = keys.write("kp2", file.path()).unwrap_err().to_string();
        assert!(near.contains("did you mean kp1"), "{near}");
    }
}
