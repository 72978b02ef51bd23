//! `ocpctl config`: profiles (server, user, saved password) in the config file.

use super::*;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Adds or changes a profile and makes it the current one.
    SetProfile {
        /// The profile's name, such as prod.
        name: String,
        /// The server's URL, such as http://10.0.0.1:8080.
        #[arg(long)]
        server: String,
        /// The platform user to log in as.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Also keep the password (--password-stdin, $OCP_PASSWORD or asked) in the
        /// credentials file (0600), once the server has taken it.
        #[arg(long)]
        save_password: bool,
    },
    /// Makes a profile the current one.
    Use {
        /// The profile's name (see `config list`).
        name: String,
    },
    /// Lists the profiles.
    List,
}

pub async fn config(ctx: &mut Ctx, cmd: ConfigCmd) -> Result<()> {
    let mut config = Config::load()?;
    match cmd {
        ConfigCmd::SetProfile {
            name,
            server,
            user,
            save_password,
        } => {
            // A password is saved only once the server took it: checked before anything
            // is written.
            let password = match save_password {
                false => None,
                true => {
                    let password = config::new_password(&user, ctx.password_stdin())?;
                    let checked = crate::client::Client::new(&server, &user, &password)?;
                    let _: serde_json::Value = checked.get("/api/v2/iam/session").await?;
                    Some(password)
                }
            };
            config.profiles.insert(
                name.clone(),
                Profile {
                    server,
                    user: user.clone(),
                },
            );
            config.current = Some(name.clone());
            config.save()?;
            if let Some(password) = password {
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
