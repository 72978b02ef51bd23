//! What alert channels may reach. A channel is configured through the API, so it must not
//! become a way around the API's permissions: an HTTP channel may not call the platform
//! itself, its agents, loopback or link-local addresses (cloud metadata services live there)
//! unless the operator allows them by name, and a SCRIPT channel runs with a clean
//! environment, as an unprivileged user when the server runs as root.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use ocp_store::Store;

/// The operator's rules for channels (`--alarm-http-allow`, `--script-channel-user`).
#[derive(Debug, Clone, Default)]
pub struct ChannelPolicy {
    /// Networks HTTP channels may reach even though they are loopback, link-local, the
    /// platform's own or an agent's.
    pub allow: Vec<IpNet>,
    /// The platform's own addresses (where this server listens and is advertised).
    pub own: Vec<IpAddr>,
    /// Whom scripts run as when the server runs as root.
    pub script_user: String,
}

/// Parses `--alarm-http-allow`: addresses or networks, comma-separated.
pub fn parse_allow_list(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{s:?} is neither an address nor a network such as 10.0.0.0/8")
                })
        })
        .collect()
}

/// Folds an IPv4 address written as IPv6 (`::ffff:127.0.0.1`) back into IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Why an address is not for channels, if it is not.
fn internal(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
        IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() => {
            Some("not a unicast address")
        }
        IpAddr::V6(v6) if v6.is_loopback() => Some("a loopback address"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("a link-local address"),
        IpAddr::V6(v6) if v6.is_unspecified() || v6.is_multicast() => Some("not a unicast address"),
        _ => None,
    }
}

impl ChannelPolicy {
    fn allowed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Resolves an HTTP channel's host and checks every address it names; answers the one
    /// to connect to, so that the check and the connection see the same address.
    pub async fn destination(
        &self,
        store: &Store,
        url: &reqwest::Url,
    ) -> Result<SocketAddr, String> {
        let host = url
            .host_str()
            .ok_or_else(|| "the URL names no host".to_string())?;
        let port = url.port_or_known_default().unwrap_or(80);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let first = *addrs
            .first()
            .ok_or_else(|| format!("{host} resolves to no address"))?;
        for addr in &addrs {
            let ip = canonical(addr.ip());
            if self.allowed(ip) {
                continue;
            }
            if let Some(why) = internal(ip) {
                return Err(refusal(host, ip, why));
            }
            if self.own.iter().any(|own| canonical(*own) == ip) {
                return Err(refusal(host, ip, "this platform's own address"));
            }
            let managed = store
                .host_by_address(&ip.to_string())
                .await
                .map_err(|e| format!("checking {ip}: {e}"))?;
            if managed.is_some() {
                return Err(refusal(host, ip, "a managed host, where an agent listens"));
            }
        }
        Ok(first)
    }

    /// The program line a SCRIPT channel runs: as is, or, when this server runs as root,
    /// through `setpriv` as the unprivileged script user without supplementary groups.
    pub fn script_command(&self, command: &[String]) -> Result<Vec<String>, String> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(command.to_vec());
        }
        let user = nix::unistd::User::from_name(&self.script_user)
            .map_err(|e| format!("looking up user {}: {e}", self.script_user))?
            .ok_or_else(|| {
                format!(
                    "user {} does not exist; name another with --script-channel-user",
                    self.script_user
                )
            })?;
        if user.uid.is_root() {
            return Err("scripts may not run as root; name another --script-channel-user".into());
        }
        let mut line = vec![
            "setpriv".to_string(),
            format!("--reuid={}", user.uid),
            format!("--regid={}", user.gid),
            "--clear-groups".into(),
            "--no-new-privs".into(),
            "--".into(),
        ];
        line.extend(command.iter().cloned());
        Ok(line)
    }
}

fn refusal(host: &str, ip: IpAddr, why: &str) -> String {
    format!("{host} is {ip}, {why}; channels may reach it only if --alarm-http-allow names it")
}

/// The environment of a script: a fixed PATH and the alert's variables as `ALARM_<NAME>`,
/// nothing of the server's.
pub fn script_environment(vars: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut env = vec![(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    )];
    for (key, value) in vars {
        let name: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        env.push((format!("ALARM_{name}"), value.replace('\0', "")));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["10.1.2.3", "192.168.1.1", "8.8.8.8", "2001:db8::1"] {
            assert!(internal(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }

    #[test]
    fn allow_lists() {
        let list = parse_allow_list("127.0.0.1, 10.0.0.0/8").unwrap();
        let policy = ChannelPolicy {
            allow: list,
            ..Default::default()
        };
        assert!(policy.allowed("127.0.0.1".parse().unwrap()));
        assert!(policy.allowed("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!policy.allowed("127.0.0.2".parse().unwrap()));
        assert!(parse_allow_list("localhost").is_err());
    }

    #[test]
    fn scripts_see_only_the_alert() {
        let vars = BTreeMap::from([("alarm_type".to_string(), "x".to_string())]);
        let env = script_environment(&vars);
        assert!(env
            .iter()
            .all(|(k, _)| k == "PATH" || k.starts_with("ALARM_")));
        assert!(env.contains(&("ALARM_ALARM_TYPE".into(), "x".into())));
    }
}
