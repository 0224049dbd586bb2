//! The client's settings: which server, from `--server`, `EDUPRO_SERVER`, or a named
//! profile in `~/.config/edupro/config.toml`.
//!
//! ```toml
//! default_profile = "school"
//! [profiles.school]
//! server = "https://edupro.school.example"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The server used when nothing else names one: a local `edupro server`.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:5001";

/// `config.toml`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One named server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub server: String,
}

/// The client's config dir (`$XDG_CONFIG_HOME/edupro` or the platform's).
pub fn config_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "edupro")
        .map(|d| d.config_dir().to_path_buf())
        .context("no home directory for the edupro config; set XDG_CONFIG_HOME")
}

impl ConfigFile {
    /// Reads `config.toml`; a missing file is an empty config.
    pub fn load() -> anyhow::Result<Self> {
        let path = config_dir()?.join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// Which server and profile a command talks to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The profile name credentials are stored under.
    pub profile: String,
    /// Base URL, without a trailing slash.
    pub server: String,
}

/// `--server` wins, then the profile's server, then the default.
pub fn resolve_target(server: Option<&str>, profile: Option<&str>) -> anyhow::Result<Target> {
    let config = ConfigFile::load()?;
    let profile_name = profile
        .map(str::to_owned)
        .or(config.default_profile.clone())
        .unwrap_or_else(|| "default".to_owned());
    let from_profile = config.profiles.get(&profile_name).map(|p| p.server.clone());
    if profile.is_some() && from_profile.is_none() && server.is_none() {
        anyhow::bail!(
            "no profile `{profile_name}` in {}; add [profiles.{profile_name}] server = \"https://…\"",
            config_dir()?.join("config.toml").display()
        );
    }
    let server = server
        .map(str::to_owned)
        .or(from_profile)
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
    let parsed = url::Url::parse(&server)
        .with_context(|| format!("--server: `{server}` is not a URL like http://127.0.0.1:5001"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "--server: `{server}` must start with http:// or https://"
    );
    Ok(Target {
        profile: profile_name,
        server: server.trim_end_matches('/').to_owned(),
    })
}
