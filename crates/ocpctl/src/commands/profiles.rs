//! `ocpctl config`: profiles (server, user, saved password) in the config file.

use super::*;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Adds or changes a profile and makes it the current one.
    SetProfile {
        name: String,
        #[arg(long)]
        server: String,
        #[arg(long, default_value = "admin")]
        user: String,
        /// Also keep the password (asked, or $OCP_PASSWORD) in the credentials file (0600).
        #[arg(long)]
        save_password: bool,
    },
    /// Makes a profile the current one.
    Use { name: String },
    /// Lists the profiles.
    List,
}

pub fn config(ctx: &mut Ctx, cmd: ConfigCmd) -> Result<()> {
    let mut config = Config::load()?;
    match cmd {
        ConfigCmd::SetProfile {
            name,
            server,
            user,
            save_password,
        } => {
            config.profiles.insert(
                name.clone(),
                Profile {
                    server,
                    user: user.clone(),
                },
            );
            config.current = Some(name.clone());
            config.save()?;
            if save_password {
                let password = password_arg(None, "OCP_PASSWORD", &format!("password for {user}"))?;
                config::save_password(&name, &password)?;
            }
            say(&format!(
                "profile {name} saved in {}",
                config::dir().display()
            ));
        }
        ConfigCmd::Use { name } => {
            if !config.profiles.contains_key(&name) {
                return Err(CliError::new(
                    crate::client::Exit::NotFound,
                    format!("no profile {name}"),
                ));
            }
            config.current = Some(name.clone());
            config.save()?;
            say(&format!("using profile {name}"));
        }
        ConfigCmd::List => {
            let current = ctx.profile_name(&config);
            let rows: Vec<Vec<String>> = config
                .profiles
                .iter()
                .map(|(n, p)| {
                    vec![
                        if *n == current {
                            "*".into()
                        } else {
                            String::new()
                        },
                        n.clone(),
                        p.server.clone(),
                        p.user.clone(),
                    ]
                })
                .collect();
            output::table(&["current", "name", "server", "user"], &rows);
        }
    }
    Ok(())
}
