//! Where tokens live: the OS keyring (Linux kernel keyring here), or — where no keyring
//! works — a 0600 file in the config dir, with a one-line warning. `EDUPRO_TOKEN` (a
//! personal access token, for CI) overrides both and is never stored.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

const SERVICE: &str = "edupro";

/// What `edupro login` keeps for one profile. `Debug` never shows the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub server: String,
    pub access_token: String,
    /// Absent for a personal access token.
    pub refresh_token: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("server", &self.server)
            .field("email", &self.email)
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// Which store holds credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The OS keyring, falling back to the file.
    Keyring,
    /// The 0600 file only (`EDUPRO_KEYRING=file`, or no keyring available).
    File,
}

/// The credential store for one profile.
pub struct CredentialStore {
    profile: String,
    backend: Backend,
}

impl CredentialStore {
    /// The store for `profile`; `EDUPRO_KEYRING=file` skips the keyring.
    pub fn new(profile: &str) -> Self {
        let backend = match std::env::var("EDUPRO_KEYRING").as_deref() {
            Ok("file") => Backend::File,
            _ => Backend::Keyring,
        };
        Self {
            profile: profile.to_owned(),
            backend,
        }
    }

    fn file_path(&self) -> anyhow::Result<PathBuf> {
        Ok(crate::config::config_dir()?.join(format!("credentials-{}.json", self.profile)))
    }

    fn entry(&self) -> Option<keyring::Entry> {
        match self.backend {
            Backend::Keyring => keyring::Entry::new(SERVICE, &self.profile).ok(),
            Backend::File => None,
        }
    }

    /// The stored credentials, if any.
    pub fn load(&self) -> anyhow::Result<Option<StoredCredentials>> {
        if let Some(entry) = self.entry()
            && let Ok(secret) = entry.get_password()
        {
            return Ok(serde_json::from_str(&secret).ok());
        }
        let path = self.file_path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(serde_json::from_str(&text).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Stores credentials: in the keyring when it works, else in the 0600 file (and says so).
    pub fn save(&self, credentials: &StoredCredentials) -> anyhow::Result<()> {
        if let Some(warning) = self.save_quietly(credentials)? {
            crate::output::eprint_line(&warning);
        }
        Ok(())
    }

    /// [`Self::save`], returning the fallback warning instead of printing it (the TUI
    /// owns the terminal and shows it in its status line).
    pub fn save_quietly(&self, credentials: &StoredCredentials) -> anyhow::Result<Option<String>> {
        let json = serde_json::to_string(credentials)?;
        let mut warning = None;
        if let Some(entry) = self.entry() {
            match entry.set_password(&json) {
                Ok(()) => {
                    // A file left from an earlier fallback would shadow nothing, but
                    // would keep a stale token on disk.
                    let _ = std::fs::remove_file(self.file_path()?);
                    return Ok(None);
                }
                Err(err) => {
                    warning = Some(format!(
                        "warning: no usable OS keyring ({err}); storing the token in a file readable only by you"
                    ))
                }
            }
        }
        let path = self.file_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // `mode` applies to new files only; an older file may have wider permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(json.as_bytes())?;
        Ok(warning)
    }

    /// Forgets the credentials, wherever they are.
    pub fn delete(&self) -> anyhow::Result<()> {
        if let Some(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        match std::fs::remove_file(self.file_path()?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
